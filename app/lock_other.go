//go:build !unix

package app

// instanceLock is a no-op where flock does not exist; one instance per database is
// then the operator's care alone.
type instanceLock struct{}

func lockDatabase(string) (*instanceLock, error) { return &instanceLock{}, nil }

func (*instanceLock) release() {}
