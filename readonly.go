package runbook

import "context"

// Reader is a Handler that can tell, before handling a request, that handling it
// changes nothing: its effects are its answer and, when it refuses, the refusal's
// audit entry (RefusalAuditContext). Such a request starts no work, so
// admission does not weigh it; and a slash command of that kind need not be recorded
// before it is handled — there is nothing to do twice — as long as its answer travels
// in the ack.
type Reader interface {
	ReadOnly(req *Request) bool
}

type readOnlyKey struct{}

// ReadOnlyContext marks ctx as serving a request that was not recorded because it
// only reads: a write under it is refused (IsReadOnly), so that a handler wrongly
// taken for a reader fails loudly instead of acting without a record.
func ReadOnlyContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, readOnlyKey{}, true)
}

// IsReadOnly says whether ctx serves a request that must not write.
func IsReadOnly(ctx context.Context) bool {
	v, _ := ctx.Value(readOnlyKey{}).(bool)
	return v
}

// RefusalAuditContext lifts ReadOnlyContext for the one write a read may make: the
// audit entry of a refusal (who asked to see what, and why not). Losing it would hide
// a probe of private incidents; writing it twice cannot happen, since the request that
// makes it is a slash command, which Slack never sends again.
func RefusalAuditContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, readOnlyKey{}, false)
}

type resumedKey struct{}

// ResumedContext marks ctx as serving a request an earlier process took and died
// before finishing: what that process held only in memory (queued investigation
// updates) is gone.
func ResumedContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, resumedKey{}, true)
}

// IsResumed says whether ctx serves a request resumed after an earlier process died.
func IsResumed(ctx context.Context) bool {
	v, _ := ctx.Value(resumedKey{}).(bool)
	return v
}
