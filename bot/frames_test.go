package bot

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
)

// chunkConn serves a byte stream in reads of the given sizes, as a network does.
type chunkConn struct {
	net.Conn
	data  []byte
	sizes []int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(c.data)
	if len(c.sizes) > 0 {
		n = max(1, min(n, c.sizes[0]))
		c.sizes = append(c.sizes[1:], c.sizes[0])
	}
	n = copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// serverFrame is an unmasked websocket frame as Slack sends it.
func serverFrame(opcode byte, payload []byte) []byte {
	f := []byte{0x80 | opcode}
	switch n := len(payload); {
	case n < 126:
		f = append(f, byte(n))
	case n < 1<<16:
		f = append(f, 126)
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	default:
		f = append(f, 127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	return append(f, payload...)
}

const handshake = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"

// FuzzNoticeConn feeds noticeConn the handshake and a stream of Slack's frames, split
// into reads anywhere: what comes out is the stream without the disconnect notices it
// intercepts, byte for byte, and each notice is reported once. Frames of every length
// encoding pass, and so does a too_many_websockets notice, which slack-go must see.
func FuzzNoticeConn(f *testing.F) {
	f.Add([]byte(`{"type":"hello"}`), []byte(`{"envelope_id":"1","type":"slash_commands"}`), uint16(0), uint8(1), true, false)
	f.Add([]byte(`{"type":"hello"}`), []byte("x"), uint16(200), uint8(7), true, true)
	f.Add([]byte{}, []byte("y"), uint16(40000), uint8(13), false, true)
	f.Add([]byte("a"), []byte("b"), uint16(0), uint8(255), true, false)
	f.Fuzz(func(t *testing.T, first, second []byte, grow uint16, chunk uint8, warn, tooMany bool) {
		if bytes.Contains(first, []byte("disconnect")) || bytes.Contains(second, []byte("disconnect")) {
			t.Skip("a payload of its own that reads as a notice")
		}
		// Long enough, at times, for the 16- and 64-bit length encodings.
		big := bytes.Repeat(append(second, '.'), 1+int(grow))
		warning := serverFrame(0x1, []byte(`{"type":"disconnect","reason":"warning","debug_info":{"host":"applink-1"}}`))
		refused := serverFrame(0x1, []byte(`{"type":"disconnect","reason":"too_many_websockets"}`))

		var in, want bytes.Buffer
		in.WriteString(handshake)
		want.WriteString(handshake)
		for _, frame := range [][]byte{serverFrame(0x1, first), serverFrame(0x9, []byte("ping"))} {
			in.Write(frame)
			want.Write(frame)
		}
		if warn {
			in.Write(warning)
		}
		if tooMany {
			in.Write(refused)
			want.Write(refused)
		}
		for _, frame := range [][]byte{serverFrame(0x1, big), serverFrame(0x8, []byte{0x03, 0xe8})} {
			in.Write(frame)
			want.Write(frame)
		}

		var notices []string
		ends := 0
		c := &noticeConn{
			Conn:   &chunkConn{data: in.Bytes(), sizes: []int{int(chunk), 3, 1, 700}},
			notice: func(reason string) { notices = append(notices, reason) },
			ended:  func() { ends++ },
		}
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("passed %d bytes, want %d: the stream minus the warning", len(got), want.Len())
		}
		if wantN := map[bool]int{true: 1, false: 0}[warn]; len(notices) != wantN || (warn && notices[0] != "warning") {
			t.Fatalf("notices %q, want %d warning", notices, wantN)
		}
		if ends == 0 {
			t.Fatal("the close frame and the end of the stream were not reported")
		}
	})
}
