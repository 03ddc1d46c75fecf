package runbooks

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// FuzzRenderURL checks that no param value can leave its place in a URL: the host
// stays, the path keeps its segments, and the query has one parameter whose value is
// the param, byte for byte. Seeds: testdata/fuzz/FuzzRenderURL.
func FuzzRenderURL(f *testing.F) {
	f.Fuzz(func(t *testing.T, v string) {
		data := map[string]any{"params": map[string]any{"v": v}}
		got, err := RenderURL("https://deploy.example.com/services/{{params.v}}/scale?name={{params.v}}", data)
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("%q does not parse: %v", got, err)
		}
		if u.Host != "deploy.example.com" || u.Fragment != "" || u.User != nil {
			t.Fatalf("the value %q changed the URL to %q", v, got)
		}
		q := u.Query()
		if len(q) != 1 || len(q["name"]) != 1 || q.Get("name") != v {
			t.Fatalf("the value %q gave the query %v", v, q)
		}
		segs := strings.Split(u.EscapedPath(), "/")
		if len(segs) != 4 || segs[1] != "services" || segs[3] != "scale" {
			t.Fatalf("the value %q changed the path to %q", v, u.EscapedPath())
		}
		if seg, err := url.PathUnescape(segs[2]); err != nil || seg != v {
			t.Fatalf("the value %q came out of the path as %q (%v)", v, seg, err)
		}
	})
}

// FuzzRenderBody checks that no param value can add structure to a JSON body: the body
// has the keys the runbook gave it, and the value comes back as the same string.
// Seeds: testdata/fuzz/FuzzRenderBody.
func FuzzRenderBody(f *testing.F) {
	rb := &Runbook{Params: []Param{{Name: "v", Type: TypeString}}}
	f.Fuzz(func(t *testing.T, v string) {
		data := map[string]any{"params": map[string]any{"v": v}}
		body, err := rb.RenderBody(map[string]any{"service": "{{params.v}}", "note": "scale {{{params.v}}} now"}, data)
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]any
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s is not JSON: %v", b, err)
		}
		if len(back) != 2 || back["service"] != toValidUTF8(v) {
			t.Fatalf("the value %q gave the body %s", v, b)
		}
	})
}

// toValidUTF8 is what encoding/json makes of a string.
func toValidUTF8(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}
