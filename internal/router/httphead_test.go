package router

import (
	"bufio"
	"strings"
	"testing"
)

func TestFindCookie(t *testing.T) {
	tests := map[string]struct{ header, want string }{
		"the only cookie":              {"slipway_client=abc", "abc"},
		"among others, with spaces":    {"a=1; slipway_client=abc ; b=2", "abc"},
		"quoted":                       {`slipway_client="abc"`, "abc"},
		"a longer name does not match": {"xslipway_client=abc; slipway_client_old=x", ""},
		"empty value is no cookie":     {"slipway_client=", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, ok := findCookie([]byte(tc.header), 0)
			got := ""
			if ok {
				got = tc.header[s.start:s.end]
			}
			if got != tc.want {
				t.Fatalf("findCookie(%q) = %q, want %q", tc.header, got, tc.want)
			}
		})
	}
}

func TestHostKey(t *testing.T) {
	for in, want := range map[string]string{
		"PR-42.App.localhost:8080": "pr-42.app.localhost",
		"app.localhost":            "app.localhost",
		"[::1]:8080":               "[::1]",
		"":                         "",
	} {
		if got := string(hostKey(nil, []byte(in))); got != want {
			t.Errorf("hostKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzReadRequest checks that no input panics the head parser and that an
// accepted head keeps its spans inside the buffer.
func FuzzReadRequest(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /x HTTP/1.0\r\nContent-Length: 3\r\nCookie: a=1; slipway_client=z\r\n\r\nabc",
		"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: Upgrade, X-A\r\nUpgrade: ws\r\nX-A: 1\r\n\r\n",
		"GET / HTTP/1.1\r\n folded\r\n\r\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var r request
		if err := readRequest(bufio.NewReaderSize(strings.NewReader(in), 512), &r); err != nil {
			return
		}
		n := int32(len(r.buf))
		for _, s := range append([]span{r.method, r.uri, r.host, r.stack, r.clientID, r.upgrade}, r.xff...) {
			if s.start < 0 || s.end > n || s.start > s.end {
				t.Fatalf("span %+v outside buffer of %d", s, n)
			}
		}
		if r.chunked && r.contentLength >= 0 {
			t.Fatal("accepted both Transfer-Encoding and Content-Length")
		}
	})
}
