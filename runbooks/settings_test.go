package runbooks

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSettingsCheckWhatIsLiteral checks that validate refuses, with file and line, a
// literal host or program the configuration does not allow and a secret it does not
// name, and leaves templated hosts and programs to the run.
func TestSettingsCheckWhatIsLiteral(t *testing.T) {
	s := Settings{Secrets: []string{"deploy_token"}, AllowedHosts: []string{"deploy.example.com", "10.0.0.7:8443"},
		AllowedPrograms: []string{"kubectl", "/usr/local/bin/deploy"}}
	src := `name: acts
params:
  - { name: host, type: string }
steps:
  - action: http.request
    with:
      url: https://evil.example.net/steal
  - action: http.request
    with:
      url: https://10.0.0.7:9000/x
  - action: http.request
    with:
      url: "https://{{params.host}}/x"
      headers: { Authorization: "Bearer {{secrets.deploy_tokn}}" }
  - action: http.request
    with:
      url: "https://DEPLOY.example.com/scale/{{params.host}}"
      headers: { Authorization: "Bearer {{secrets.deploy_token}}" }
  - action: command.run
    with:
      command: [bash, -c, "kubectl get pods"]
  - action: command.run
    with:
      command: [/usr/bin/kubectl, get, pods]
  - action: command.run
    with:
      command: [kubectl, get, pods]
      env: { TOKEN: "{{secrets.deploy_token}}" }
`
	_, err := s.Parse("acts.yaml", []byte(src))
	got := problemLines(t, err)
	want := []string{
		`acts.yaml:7: step 1 (http.request): with.url host "evil.example.net" is not in actions.http.allowedHosts (deploy.example.com, 10.0.0.7:8443)`,
		`acts.yaml:10: step 2 (http.request): with.url host "10.0.0.7:9000" is not in actions.http.allowedHosts (deploy.example.com, 10.0.0.7:8443)`,
		`acts.yaml:14: step 3 (http.request): with.headers.Authorization: unknown variable "secrets.deploy_tokn" (did you mean "secrets.deploy_token"?)`,
		`acts.yaml:21: step 5 (command.run): with.command[0]: program "bash" is not in actions.command.allowed (kubectl, /usr/local/bin/deploy)`,
		`acts.yaml:24: step 6 (command.run): with.command[0]: program "/usr/bin/kubectl" is not in actions.command.allowed (kubectl, /usr/local/bin/deploy)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func problemLines(t *testing.T, err error) []string {
	t.Helper()
	ps, ok := err.(*Problems)
	if !ok {
		t.Fatalf("err = %v, want *Problems", err)
	}
	var out []string
	for _, p := range *ps {
		out = append(out, p.String())
	}
	return out
}

// TestRenderBodyKeepsStructure checks that a json input's values can add no JSON
// structure, and that a typed param's one tag becomes a JSON number or boolean.
func TestRenderBodyKeepsStructure(t *testing.T) {
	rb := &Runbook{Params: []Param{{Name: "count", Type: TypeInteger}, {Name: "force", Type: TypeBoolean},
		{Name: "service", Type: TypeString}, {Name: "ratio", Type: TypeNumber}}}
	data := map[string]any{"params": map[string]any{"count": 12, "force": true, "ratio": 0.5,
		"service": `checkout", "admin": true, "x": "<&>`},
		"steps": map[string]any{"scale": map[string]any{"json": map[string]any{"previous": 3.0, "name": "old"}}}}
	body := map[string]any{"prev": "{{steps.scale.json.previous}}", "prev_name": "{{steps.scale.json.name}}",
		"count": "{{params.count}}", "force": "{{{params.force}}}", "ratio": "{{ params.ratio }}",
		"service": "{{params.service}}", "label": "{{params.count}} tasks", "list": []any{"{{params.service}}", 3}}
	v, err := rb.RenderBody(body, data)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(v)
	want := `{"count":12,"force":true,"label":"12 tasks","list":["checkout\", \"admin\": true, \"x\": \"\u003c\u0026\u003e",3],"prev":3,"prev_name":"old","ratio":0.5,"service":"checkout\", \"admin\": true, \"x\": \"\u003c\u0026\u003e"}`
	if string(got) != want {
		t.Errorf("body = %s\nwant   %s", got, want)
	}
}

// TestRenderURLEncodesValues checks that a value cannot leave its path segment or
// query value unless the tag is raw.
func TestRenderURLEncodesValues(t *testing.T) {
	data := map[string]any{"params": map[string]any{"service": "x/../admin?drop=1&y=2#", "base": "https://deploy.example.com/v2"}}
	got, err := RenderURL("https://deploy.example.com/services/{{params.service}}/scale?name={{params.service}}", data)
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://deploy.example.com/services/x%2F..%2Fadmin%3Fdrop%3D1%26y%3D2%23/scale?name=x%2F..%2Fadmin%3Fdrop%3D1%26y%3D2%23"; got != want {
		t.Errorf("url = %s\nwant  %s", got, want)
	}
	got, err = RenderURL("{{{params.base}}}/scale", data)
	if err != nil || got != "https://deploy.example.com/v2/scale" {
		t.Errorf("raw url = %q, %v", got, err)
	}
}

// TestHostAllowed checks the allowlist's host and port rules.
func TestHostAllowed(t *testing.T) {
	allowed := []string{"deploy.example.com", "10.0.0.7:8443", "[::1]:9000"}
	for raw, want := range map[string]bool{
		"https://deploy.example.com/x":       true,
		"http://Deploy.Example.com:8080/x":   true,
		"https://10.0.0.7:8443/":             true,
		"https://10.0.0.7/":                  false,
		"http://[::1]:9000/":                 true,
		"http://[::1]:9001/":                 false,
		"https://deploy.example.com.evil.io": false,
		"https://evil.io/deploy.example.com": false,
		"https://deploy.example.com@evil.io": false,
	} {
		if got := CheckURL(raw, allowed) == ""; got != want {
			t.Errorf("CheckURL(%s) allowed = %v, want %v", raw, got, want)
		}
	}
	if CheckURL("https://anything.example/", nil) != "" {
		t.Error("an empty allowlist must allow any host")
	}
}

// TestSettingsKnowTheRoles checks that validate knows the configured roles: a role
// that is not one is refused with a did-you-mean, and the configured ones pass.
func TestSettingsKnowTheRoles(t *testing.T) {
	s := Settings{Roles: []string{"commander", "comms", "scribe"}}
	src := `name: roles
steps:
  - action: slack.send_message
    with:
      channel: "#ops"
      text: "{{incident.roles.comms}} {{incident.roles.commander}} {{Activity.roles.scribe}}"
  - action: slack.send_message
    with:
      channel: "#ops"
      text: "{{incident.roles.coms}} {{incident.roles.comms.id}}"
`
	_, err := s.Parse("roles.yaml", []byte(src))
	got := strings.Join(problemLines(t, err), "\n")
	for _, want := range []string{
		`roles.yaml:10: step 2 (slack.send_message): with.text: unknown variable "incident.roles.coms" (did you mean "incident.roles.comms"?)`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems:\n%s\nwant:\n%s", got, want)
		}
	}
	if strings.Contains(got, ":6:") {
		t.Errorf("configured roles refused:\n%s", got)
	}
}
