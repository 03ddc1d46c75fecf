package demo

import "regexp"

// normalizers replace what changes from one run to the next.
var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`), "YYYY-MM-DD"},
	{regexp.MustCompile(`\b\d{2}:\d{2}:\d{2}\b`), "HH:MM:SS"},
	{regexp.MustCompile(`\b\d{2}:\d{2} UTC\b`), "HH:MM UTC"},
	{regexp.MustCompile(`\bDuration: \d+(?:s|m|h \d{2}m|d \d+h)\b`), "Duration: D"},         // an incident summary's duration
	{regexp.MustCompile(`\b\d{9,10}\.\d{6}\b`), "TS"},                                       // message ts
	{regexp.MustCompile(`\b[UCDGSBTAVW][0-9A-F]{8}\b`), "ID"},                               // Slack ids, as the emulator makes them
	{regexp.MustCompile(`\b127\.0\.0\.1:\d+\b`), "127.0.0.1:PORT"},                          // the stand-in deploy API's free port
	{regexp.MustCompile(`\b(R-\d+-\d+-)[0-9a-f]{16}\b`), "${1}KEY"},                         // an Idempotency-Key's random part
	{regexp.MustCompile(`\b((?:HTTP \d{3}|exit -?\d+) in )\d+(?:\.\d)? m?s\b`), "${1}N ms"}, // how long a step took
}

// Normalize replaces what changes from run to run in a transcript — dates, times, an
// incident summary's duration, message ts values, Slack ids, the stand-in deploy API's port, the random part of
// Idempotency-Keys and how long steps took — with placeholders, so that two transcripts can be
// compared (the golden-file tests do). Dates and times keep their width, so the
// columns of the summary stay aligned.
func Normalize(transcript string) string {
	for _, n := range normalizers {
		transcript = n.re.ReplaceAllString(transcript, n.with)
	}
	return transcript
}
