// Package fakedns is a DNS server for tests and load tools: it answers TXT questions over UDP
// from a function, as a real server would, and NXDOMAIN for everything else. The gateway
// reaches it through email.dns_server for its SPF, DKIM and DMARC lookups.
package fakedns

import (
	"net"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// TXTFunc returns the TXT record of a name (lower case, no final dot), or false for NXDOMAIN.
type TXTFunc func(name string) (string, bool)

// Map answers from a fixed table.
func Map(txt map[string]string) TXTFunc {
	return func(name string) (string, bool) {
		v, ok := txt[name]
		return v, ok
	}
}

// Server is a running fake DNS server.
type Server struct {
	pc net.PacketConn
}

// Start listens on addr ("127.0.0.1:0" for any port) and serves until Close.
func Start(addr string, txt TXTFunc) (*Server, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{pc: pc}
	go s.serve(txt)
	return s, nil
}

// Addr is the host:port to give the gateway as email.dns_server.
func (s *Server) Addr() string { return s.pc.LocalAddr().String() }

// Close stops the server.
func (s *Server) Close() error { return s.pc.Close() }

func (s *Server) serve(txt TXTFunc) {
	buf := make([]byte, 1500)
	for {
		n, addr, err := s.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if out, ok := answer(buf[:n], txt); ok {
			_, _ = s.pc.WriteTo(out, addr)
		}
	}
}

func answer(query []byte, txt TXTFunc) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	name := strings.TrimSuffix(strings.ToLower(q.Name.String()), ".")
	value, found := "", false
	if q.Type == dnsmessage.TypeTXT {
		value, found = txt(name)
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	if !found {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	_ = b.StartQuestions()
	_ = b.Question(q)
	if found {
		_ = b.StartAnswers()
		_ = b.TXTResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.TXTResource{TXT: []string{value}})
	}
	out, err := b.Finish()
	return out, err == nil
}
