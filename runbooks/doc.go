// Package runbooks loads, validates, templates and runs incident runbooks.
//
// The definition side (this file's neighbours file.go, load.go, parse*.go, inputs.go,
// actions_spec.go, params.go, template.go, scope.go) turns a directory of YAML files
// into a Catalog of checked Runbooks:
//
//   - LoadDir / LoadFile / Parse read runbook files and report every problem they find
//     as Problems, each with its file and line;
//   - Actions declares what every step action takes and produces, so that files are
//     checked before anything runs;
//   - Render / RenderValue fill in Mustache templates with Slack-escaped values, and
//     Scope checks statically which variables a step may use.
//
// The executor (executor*.go, action_*.go) builds on these: it binds a run's params
// with Runbook.BindParams, renders each step's With with RenderValue and its When with
// Render and Truthy, and records each step's outputs under steps.<id>.
package runbooks
