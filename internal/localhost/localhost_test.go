package localhost_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slipway/slipway/internal/localhost"
)

// The URL `demo` prints (http://pr-1.<app>.localhost:<port>) reaches the
// router on 127.0.0.1 with its Host header intact, whatever DNS says.
func TestDemoURLReachesTheLoopbackServerWithItsHost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Host)
	}))
	defer srv.Close()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"pr-1.shop.localhost", "shop.localhost", "localhost", "PR-2.Shop.LOCALHOST."} {
		resp, err := localhost.Client(5 * time.Second).Get("http://" + host + ":" + port + "/")
		if err != nil {
			t.Fatalf("GET %s: %v", host, err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || string(body) != host+":"+port {
			t.Fatalf("GET %s: server saw Host %q (%v)", host, body, err)
		}
	}
}

func TestOnlyLocalhostNamesAreRewritten(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"pr-1.shop.localhost:8080", "127.0.0.1:8080"},
		{"localhost:80", "127.0.0.1:80"},
		{"a.localhost.:443", "127.0.0.1:443"},
		{"localhost.example.com:80", "localhost.example.com:80"},
		{"notlocalhost:80", "notlocalhost:80"},
		{"example.com:443", "example.com:443"},
		{"[::1]:8080", "[::1]:8080"},
	} {
		if got := localhost.Address(tt.in); got != tt.want {
			t.Errorf("Address(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
