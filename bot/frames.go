package bot

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"net"
	"time"

	"github.com/gorilla/websocket"
)

// slack-go closes its connection the moment Slack sends {"type":"disconnect"}, and
// drops what it has read but not handed out and the acks it has not written. Slack
// sends the warning some seconds before it closes, and never resends a slash command
// or a click, so closing at once loses the commands in flight on that connection. The
// bot keeps the connection instead: it takes the disconnect frame out of the stream
// before slack-go sees it, opens a new connection, and lets the old one close when
// Slack closes it, after its last acks went out.

// maxNoticeFrame bounds the frames inspected for a disconnect notice; Slack's are a
// hundred bytes or so, and everything larger streams through untouched.
const maxNoticeFrame = 1024

// disconnectNotice is Slack's announcement that it will close the connection.
type disconnectNotice struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// interceptedReason says whether the bot handles a disconnect reason itself.
// too_many_websockets is left to slack-go: a new connection would only be refused too.
func interceptedReason(reason string) bool { return reason != "too_many_websockets" }

// noticeConn passes a websocket client's bytes through, minus the disconnect notices,
// which it reports instead. Server frames are unmasked, so a frame is its header and
// payload as read.
type noticeConn struct {
	net.Conn
	notice func(reason string)
	// ended is called when Slack closes the connection (a close frame or the end of
	// the stream), before slack-go hears of it and reconnects.
	ended func()

	buf      []byte // what each read of the connection lands in, reused
	upgraded bool   // the HTTP handshake's response has passed
	in       []byte // read, not yet classified
	out      []byte // classified, for the caller
	pass     int    // payload bytes of the current frame to pass through unread
}

func (c *noticeConn) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		if c.buf == nil {
			c.buf = make([]byte, 4096)
		}
		n, err := c.Conn.Read(c.buf)
		c.in = append(c.in, c.buf[:n]...)
		c.classify()
		if err != nil {
			c.ended()
			if len(c.out) == 0 {
				return 0, err
			}
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

// classify moves what it can from in to out, dropping disconnect notices.
func (c *noticeConn) classify() {
	for len(c.in) > 0 {
		if !c.upgraded {
			i := bytes.Index(c.in, []byte("\r\n\r\n"))
			if i < 0 {
				return
			}
			c.emit(i + 4)
			c.upgraded = true
			continue
		}
		if c.pass > 0 {
			n := min(c.pass, len(c.in))
			c.emit(n)
			c.pass -= n
			continue
		}
		hdr, size, ok := frameHeader(c.in)
		if !ok {
			return
		}
		// A whole, unmasked, small text frame may be a notice; anything else streams.
		if c.in[0]&0x0f == 0x8 { // close
			c.ended()
		}
		if c.in[0] != 0x81 || c.in[1]&0x80 != 0 || size > maxNoticeFrame {
			c.emit(hdr)
			c.pass = int(size)
			continue
		}
		end := hdr + int(size)
		if len(c.in) < end {
			return
		}
		var n disconnectNotice
		if json.Unmarshal(c.in[hdr:end], &n) == nil && n.Type == "disconnect" && interceptedReason(n.Reason) {
			c.notice(n.Reason)
			c.in = c.in[end:]
			continue
		}
		c.emit(end)
	}
}

// emit moves the first n bytes of in to out.
func (c *noticeConn) emit(n int) {
	c.out = append(c.out, c.in[:n]...)
	c.in = c.in[n:]
}

// frameHeader parses a websocket frame header: its length and the payload's.
func frameHeader(b []byte) (hdr int, size uint64, ok bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	hdr, size = 2, uint64(b[1]&0x7f)
	switch size {
	case 126:
		if len(b) < 4 {
			return 0, 0, false
		}
		hdr, size = 4, uint64(binary.BigEndian.Uint16(b[2:4]))
	case 127:
		if len(b) < 10 {
			return 0, 0, false
		}
		hdr, size = 10, binary.BigEndian.Uint64(b[2:10])
	}
	if b[1]&0x80 != 0 {
		hdr += 4 // masking key
	}
	return hdr, size, len(b) >= hdr
}

// linkDialer returns a websocket dialer (for socketmode.OptionDialer) whose
// connections report disconnect notices to notice instead of passing them to slack-go,
// and their reads to liveness (if not nil). It dials (and runs TLS) itself, through
// the environment's proxy, so that it sees the plaintext frames of a wss:// connection.
func linkDialer(sd socketDialer, liveness *Liveness, notice func(reason string), ended func()) *websocket.Dialer {
	d := *websocket.DefaultDialer
	d.HandshakeTimeout = 10 * time.Second
	d.Proxy = nil // sd goes through the proxy itself
	wrap := func(conn net.Conn) net.Conn {
		if liveness != nil {
			conn = &watchedConn{Conn: conn, l: liveness}
		}
		return &noticeConn{Conn: conn, notice: notice, ended: ended}
	}
	dialer := func(scheme string) func(ctx context.Context, network, addr string) (net.Conn, error) {
		return func(ctx context.Context, _, addr string) (net.Conn, error) {
			conn, err := sd.dial(ctx, scheme, addr)
			if err != nil {
				return nil, err
			}
			return wrap(conn), nil
		}
	}
	d.NetDialContext = dialer("http")
	d.NetDialTLSContext = dialer("https")
	return &d
}
