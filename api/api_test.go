package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	ciToken     = "ci-0123456789abcdef0123456789abcdef0123"
	alertsToken = "alerts-0123456789abcdef0123456789abcdef"
)

// server is the API with two tokens and one test endpoint that needs the approvals
// scope and echoes who called.
func server(t *testing.T) *httptest.Server {
	t.Helper()
	s := New(Deps{Tokens: []Token{
		{Name: "ci", Value: ciToken, Scopes: []Scope{ScopeApprovals}},
		{Name: "alerts", Value: alertsToken, Scopes: []Scope{ScopeIncidents}},
	}})
	s.handle("POST /api/v1/echo", ScopeApprovals, func(w http.ResponseWriter, r *http.Request, c Caller) error {
		var body struct {
			Text string `json:"text"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]string{"caller": c.Name, "actor": c.Actor(), "text": body.Text})
		return nil
	})
	mux := http.NewServeMux()
	s.Mount(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

type answer struct {
	status int
	body   map[string]string
	header http.Header
}

func call(t *testing.T, ts *httptest.Server, method, path, auth, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: answer is not a JSON object: %v", method, path, err)
	}
	return answer{resp.StatusCode, out, resp.Header}
}

func TestTokensAndScopes(t *testing.T) {
	ts := server(t)
	for _, c := range []struct {
		name, auth string
		status     int
		code       string
	}{
		{"no token", "", 401, "unauthorized"},
		{"unknown token", "Bearer " + strings.Repeat("x", 40), 401, "unauthorized"},
		{"token as basic auth", "Basic " + ciToken, 401, "unauthorized"},
		{"a prefix of a real token", "Bearer " + ciToken[:20], 401, "unauthorized"},
		{"wrong scope", "Bearer " + alertsToken, 403, "forbidden"},
		{"right scope", "Bearer " + ciToken, 200, ""},
		{"scheme in lower case", "bearer " + ciToken, 200, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := call(t, ts, "POST", "/api/v1/echo", c.auth, `{"text":"hi"}`)
			if a.status != c.status || a.body["error"] != c.code {
				t.Fatalf("status %d %v, want %d %q", a.status, a.body, c.status, c.code)
			}
			if c.status == 401 && a.header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
			if c.status != 200 && a.body["message"] == "" {
				t.Errorf("error without a message: %v", a.body)
			}
			if c.status == 200 && (a.body["caller"] != "ci" || a.body["actor"] != "api:ci") {
				t.Errorf("caller %v, want ci as api:ci", a.body)
			}
		})
	}
}

// TestRefusalsNeverEchoTheToken: nothing a caller sends as a token comes back.
func TestRefusalsNeverEchoTheToken(t *testing.T) {
	ts := server(t)
	for _, auth := range []string{"Bearer " + alertsToken, "Bearer not-a-token-but-secret-anyway", "Bearer " + ciToken} {
		a := call(t, ts, "POST", "/api/v1/nowhere", auth, `{}`)
		for _, v := range a.body {
			if strings.Contains(v, strings.TrimPrefix(auth, "Bearer ")) {
				t.Fatalf("answer %v echoes the token", a.body)
			}
		}
	}
}

func TestBadBodies(t *testing.T) {
	ts := server(t)
	for _, c := range []struct {
		name, body string
		status     int
		says       string
	}{
		{"empty", ``, 400, "empty"},
		{"not JSON", `text=hi`, 400, "not valid JSON"},
		{"unknown field", `{"text":"hi","txet":"x"}`, 400, `Unknown field "txet"`},
		{"wrong type", `{"text":7}`, 400, "text must be a string"},
		{"two objects", `{"text":"a"}{"text":"b"}`, 400, "one JSON object"},
		{"a list", `[1]`, 400, "JSON object"},
		{"too large", `{"text":"` + strings.Repeat("a", maxBody) + `"}`, 413, "larger than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := call(t, ts, "POST", "/api/v1/echo", "Bearer "+ciToken, c.body)
			if a.status != c.status || !strings.Contains(a.body["message"], c.says) {
				t.Fatalf("status %d %v, want %d saying %q", a.status, a.body, c.status, c.says)
			}
		})
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	ts := server(t)
	if a := call(t, ts, "GET", "/api/v1/nothing", "Bearer "+ciToken, ""); a.status != 404 || a.body["error"] != "not_found" {
		t.Fatalf("unknown path: %d %v", a.status, a.body)
	}
	if a := call(t, ts, "GET", "/api/v1/echo", "Bearer "+ciToken, ""); a.status != 405 || a.header.Get("Allow") != "POST" || !strings.Contains(a.body["message"], "takes POST") {
		t.Fatalf("wrong method: %d %v", a.status, a.body)
	}
	// An unknown path without a token is a 401: the API does not say what exists.
	if a := call(t, ts, "GET", "/api/v1/echo", "", ""); a.status != 401 {
		t.Fatalf("unauthenticated: %d %v", a.status, a.body)
	}
}
