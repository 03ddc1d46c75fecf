package apptest

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// SyncWriter makes W safe to write to from several goroutines, as a bot's log and other
// output sharing one writer need.
type SyncWriter struct {
	mu sync.Mutex
	W  io.Writer
}

func (s *SyncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.W.Write(p)
}

// LogBuffer collects a bot's log; it is safe for concurrent use.
type LogBuffer struct {
	SyncWriter
	buf *bytes.Buffer
}

// NewLogBuffer returns an empty LogBuffer.
func NewLogBuffer() *LogBuffer {
	buf := &bytes.Buffer{}
	return &LogBuffer{SyncWriter: SyncWriter{W: buf}, buf: buf}
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Logger is a text logger at level writing to w.
func Logger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
