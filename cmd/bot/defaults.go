package main

import (
	"os"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
)

// defaultPrefix marks a packager's default: RUNBOOK_DEFAULT__<KEY>=value sets <KEY>
// only where neither the configuration file nor a RUNBOOK_<KEY> variable does. The
// container image uses it for its paths and listener, so that a mounted config.yaml
// always wins over what the image was built with, and only what the operator sets in
// the environment overrides the file.
const defaultPrefix = "RUNBOOK_DEFAULT__"

// withDefaults returns environ with each RUNBOOK_DEFAULT__<KEY> removed and, where
// neither the configuration file (found as the command line would find it) nor the
// environment sets <KEY>, RUNBOOK_<KEY> added in its place.
func withDefaults(args, environ []string) []string {
	var defaults, out []string
	for _, kv := range environ {
		if strings.HasPrefix(kv, defaultPrefix) {
			defaults = append(defaults, kv)
		} else {
			out = append(out, kv)
		}
	}
	if len(defaults) == 0 {
		return environ
	}
	file := fileKeys(configPathArg(args, environ))
	for _, kv := range defaults {
		name, value, _ := strings.Cut(kv, "=")
		key := "RUNBOOK_" + name[len(defaultPrefix):]
		if file.has(keyPath(key)) || setInEnviron(out, key) {
			continue
		}
		out = append(out, key+"="+value)
	}
	return out
}

// configPathArg is the file a subcommand will load: its --config flag, else
// defaultConfigPath.
func configPathArg(args, environ []string) string {
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return defaultConfigPath(environ)
}

// keyPath turns RUNBOOK_A__B into the segments the configuration matches keys by:
// lower case, underscores inside a segment ignored.
func keyPath(name string) []string {
	segs := strings.Split(strings.TrimPrefix(name, "RUNBOOK_"), "__")
	for i, s := range segs {
		segs[i] = normalKey(s)
	}
	return segs
}

func normalKey(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }

func setInEnviron(environ []string, name string) bool {
	want := strings.Join(keyPath(name), ".")
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "RUNBOOK_") && strings.Join(keyPath(k), ".") == want {
			return true
		}
	}
	return false
}

// keys is a parsed configuration file, for asking which keys it sets.
type keys map[string]any

// fileKeys reads the file at path; an unreadable or malformed file sets nothing here
// and is reported when the configuration is loaded.
func fileKeys(path string) keys {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	m, err := yaml.Parser().Unmarshal(b)
	if err != nil {
		return nil
	}
	return m
}

// has reports whether the file gives the key a value; a YAML null (a key with
// nothing after the colon) keeps the default, as the configuration treats it.
func (k keys) has(path []string) bool {
	var cur any = map[string]any(k)
	for _, seg := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		cur = nil
		for name, v := range m {
			if normalKey(name) == seg {
				cur = v
				break
			}
		}
		if cur == nil {
			return false
		}
	}
	return true
}
