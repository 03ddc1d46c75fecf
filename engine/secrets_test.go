package engine

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

// TestSecretsAreMaskedInEveryForm checks that a secret echoed back in the forms a
// server or program uses is masked in text and in nested outputs, and that a longer
// secret containing a shorter one is masked whole.
func TestSecretsAreMaskedInEveryForm(t *testing.T) {
	const token = `s3cr3t/"tok&en+`
	s := newSecrets(map[string]string{"deploy_token": token, "short": "tok", "unset": ""})
	b64 := base64.StdEncoding.EncodeToString([]byte(token))
	text := strings.Join([]string{token, `s3cr3t/\"tok&en+`, url.QueryEscape(token), url.PathEscape(token), b64, "tok"}, " | ")
	got := s.mask(text)
	want := "[secret:deploy_token] | [secret:deploy_token] | [secret:deploy_token] | [secret:deploy_token] | [secret:deploy_token] | [secret:short]"
	if got != want {
		t.Errorf("mask =\n%s\nwant\n%s", got, want)
	}
	out := s.maskValue(map[string]any{"body": "echo " + token, "json": map[string]any{"auth": []any{"Bearer " + token, 7}}}).(map[string]any)
	if out["body"] != "echo [secret:deploy_token]" || out["json"].(map[string]any)["auth"].([]any)[0] != "Bearer [secret:deploy_token]" {
		t.Errorf("maskValue = %v", out)
	}
	if data := s.placeholders(map[string]any{}); data["secrets"].(map[string]any)["unset"] != "[secret:unset]" {
		t.Errorf("placeholders = %v", data)
	}
	var none *secrets
	if none.mask("x") != "x" {
		t.Error("no secrets must mask nothing")
	}
}

// TestTailBufferKeepsTheEnd checks that a command's output keeps its last bytes, where
// the outcome is, and says it was cut.
func TestTailBufferKeepsTheEnd(t *testing.T) {
	b := tailBuffer{keep: MaxCommandOutput}
	for range 3 {
		b.Write([]byte(strings.Repeat("x", MaxCommandOutput/2)))
	}
	b.Write([]byte("done\n"))
	got := b.text(nil)
	if !strings.HasPrefix(got, "…") || !strings.HasSuffix(got, "done\n") || len(got) > MaxCommandOutput+len("…") || len(got) < MaxCommandOutput/2 {
		t.Errorf("tail has %d bytes: %q…%q", len(got), got[:8], got[len(got)-8:])
	}
}

// TestSecretCutByTheTailIsNotHalfKept checks that a secret the output's cut goes
// through leaves none of its characters in what is kept.
func TestSecretCutByTheTailIsNotHalfKept(t *testing.T) {
	const token = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	s := newSecrets(map[string]string{"t": token})
	for cut := 1; cut < len(token); cut++ {
		b := tailBuffer{keep: MaxCommandOutput + s.margin()}
		b.Write([]byte(strings.Repeat("x", MaxCommandOutput+s.margin()) + token + strings.Repeat("y", MaxCommandOutput+s.margin()-len(token)+cut)))
		got := b.text(s)
		if strings.Contains(got, token[cut:]) && len(token[cut:]) > 3 {
			t.Fatalf("cut %d: the kept output ends a secret in clear: …%q", cut, got[:40])
		}
	}
}
