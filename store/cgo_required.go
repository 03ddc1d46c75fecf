//go:build !cgo

package store

// Runbook's SQLite is compiled in with cgo. Without a C compiler the go command turns
// cgo off silently and the build fails on names from the SQLite driver; this line
// makes the first error say what to do.
var _ = Runbook_needs_cgo__install_a_C_compiler_such_as_gcc_and_build_with_CGO_ENABLED_1
