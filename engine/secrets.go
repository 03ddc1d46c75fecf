package engine

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// secrets are the configured secret values, by name. Templates of machine actions see
// them as {{secrets.NAME}}; everything a step stores, logs or shows has them masked as
// [secret:NAME], in the forms a server or program is likely to echo them in (as
// written, JSON-escaped, percent-encoded, base64).
type secrets struct {
	values map[string]string
	masker *strings.Replacer
	// longest is the length of the longest form masked: text cut from a longer
	// stream may hold a partial secret within that many bytes of the cut.
	longest int
}

func newSecrets(values map[string]string) *secrets {
	s := &secrets{values: map[string]string{}}
	type form struct{ text, name string }
	var forms []form
	for name, v := range values {
		s.values[name] = v
		if v == "" {
			continue
		}
		for _, f := range secretForms(v) {
			forms = append(forms, form{f, name})
			s.longest = max(s.longest, len(f))
		}
	}
	// Longest first: a secret that contains another is masked whole.
	slices.SortFunc(forms, func(a, b form) int {
		return cmp.Or(cmp.Compare(len(b.text), len(a.text)), strings.Compare(a.text, b.text))
	})
	var pairs []string
	for _, f := range forms {
		pairs = append(pairs, f.text, "[secret:"+f.name+"]")
	}
	if len(pairs) > 0 {
		s.masker = strings.NewReplacer(pairs...)
	}
	return s
}

// secretForms are the ways a value is likely to come back.
func secretForms(v string) []string {
	quoted, _ := json.Marshal(v) // <, > and & as \u003c…, as Go servers send them
	var plain strings.Builder
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false) // as most others do
	_ = enc.Encode(v)
	unquoted := strings.TrimSuffix(plain.String(), "\n")
	forms := []string{v, string(quoted[1 : len(quoted)-1]), unquoted[1 : len(unquoted)-1], url.QueryEscape(v), url.PathEscape(v),
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))}
	slices.Sort(forms)
	return slices.Compact(forms)
}

// mask replaces every secret in text.
func (s *secrets) mask(text string) string {
	if s == nil || s.masker == nil {
		return text
	}
	return s.masker.Replace(text)
}

// margin is how many bytes next to a cut may hold part of a secret.
func (s *secrets) margin() int {
	if s == nil {
		return 0
	}
	return s.longest
}

// maskValue masks every string in a value of maps, lists and scalars.
func (s *secrets) maskValue(v any) any {
	switch v := v.(type) {
	case string:
		return s.mask(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[s.mask(k)] = s.maskValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = s.maskValue(x)
		}
		return out
	}
	return v
}

// withData returns template data with the secrets added.
func (s *secrets) withData(data map[string]any) map[string]any {
	out := maps.Clone(data)
	values := map[string]any{}
	for name, v := range s.values {
		values[name] = v
	}
	out["secrets"] = values
	return out
}

// placeholders returns template data with each secret standing as [secret:NAME], for
// showing what a step would send without revealing it.
func (s *secrets) placeholders(data map[string]any) map[string]any {
	out := maps.Clone(data)
	values := map[string]any{}
	for name := range s.values {
		values[name] = "[secret:" + name + "]"
	}
	out["secrets"] = values
	return out
}
