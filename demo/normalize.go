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
	{regexp.MustCompile(`\b\d{9,10}\.\d{6}\b`), "TS"},         // message ts
	{regexp.MustCompile(`\b[UCDGSBTAVW][0-9A-F]{8}\b`), "ID"}, // Slack ids, as the emulator makes them
}

// Normalize replaces what changes from run to run in a transcript — dates, times,
// message ts values and Slack ids — with placeholders, so that two transcripts can be
// compared (the golden-file tests do). Dates and times keep their width, so the
// columns of the summary stay aligned.
func Normalize(transcript string) string {
	for _, n := range normalizers {
		transcript = n.re.ReplaceAllString(transcript, n.with)
	}
	return transcript
}
