package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// input reads the person's lines (Enter in step mode, commands in interactive mode)
// without holding up a demo that is interrupted while it waits for one.
type input struct {
	r     *bufio.Reader
	once  sync.Once
	lines chan line
}

type line struct {
	text string
	err  error
}

func newInput(r io.Reader) *input { return &input{r: bufio.NewReader(r)} }

// next returns the next line, without its newline. At the end of the input it
// returns the last partial line, if any, then io.EOF.
func (in *input) next(ctx context.Context) (string, error) {
	in.once.Do(func() {
		in.lines = make(chan line)
		go in.read()
	})
	select {
	case l, ok := <-in.lines:
		if !ok {
			return "", io.EOF
		}
		return l.text, l.err
	case <-ctx.Done():
		return "", fmt.Errorf("interrupted")
	}
}

// read reads lines until the input ends or fails. It runs on its own, as a read
// from a terminal cannot be cancelled.
func (in *input) read() {
	defer close(in.lines)
	for {
		text, err := in.r.ReadString('\n')
		text = trimNewline(text)
		switch {
		case err == nil:
			in.lines <- line{text: text}
		case errors.Is(err, io.EOF):
			if text != "" {
				in.lines <- line{text: text}
			}
			return
		default:
			in.lines <- line{err: fmt.Errorf("read the input: %w", err)}
			return
		}
	}
}

func trimNewline(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}
