package runbook

import (
	"errors"
	"fmt"
	"strconv"
)

// Error codes. Callers branch on these; the edge (handlers) turns them into a sentence
// for the person in Slack, and only EINTERNAL is logged.
const (
	ECONFLICT    = "conflict"    // the thing exists already or was decided already
	EFORBIDDEN   = "forbidden"   // the person may not do this
	EINTERNAL    = "internal"    // a bug or an outage: logged, never shown in detail
	EINVALID     = "invalid"     // bad input: the message says what is wrong
	ENOTFOUND    = "not_found"   // no such incident, runbook, approval…
	EUNAVAILABLE = "unavailable" // a dependency is busy or down: try again
)

// Error is an error with a code and a message written for the person who caused it.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("runbook: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted, user-facing message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EUNAVAILABLE for a
// failure on Slack's side, EINTERNAL for any other non-nil error (a misconfigured app
// included: its operator must see it in the log), and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	if se, ok := errors.AsType[*SlackError](err); ok && se.Fault == SlackDown {
		return EUNAVAILABLE
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of the first *Error in err's chain, what
// a failed Slack call means for the person (SlackError.Sentence), or a generic
// sentence for any other error so that internals never reach Slack.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	if se, ok := errors.AsType[*SlackError](err); ok {
		return se.Sentence()
	}
	return "Something went wrong on Runbook's side; it has been logged."
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
