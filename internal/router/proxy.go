package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Limits on a request head, as the ALB sets them.
const (
	maxHeaderLine = 16 << 10 // one header line, name included
	maxHeadBytes  = 64 << 10 // the whole head
	maxURIBytes   = 16 << 10 // the request target
)

// statusClientGone is what the metrics and the access log record for a
// request whose client left before its answer (nginx's 499).
const statusClientGone = 499

// newProxy builds the target's transport and reverse proxy. Framing,
// hop-by-hop headers, 1xx, upgrades and streaming are the standard
// library's; what is ours is where the request goes and how failures read.
func (r *Router) newProxy(t *target) {
	u := &url.URL{Scheme: "http", Host: t.addr}
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	t.transport = &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			ic := &idleConn{Conn: c, timeout: &r.idleTimeout, set: &t.conns}
			if !t.conns.add(ic) {
				_ = c.Close() // never used
				return nil, errCut
			}
			return ic, nil
		},
		MaxIdleConns:           0, // no global cap; per host below
		MaxIdleConnsPerHost:    256,
		IdleConnTimeout:        30 * time.Second,
		DisableCompression:     true,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxHeadBytes,
		WriteBufferSize:        16 << 10,
		ReadBufferSize:         16 << 10,
	}
	t.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host // the ALB keeps the client's Host
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			pr.SetXForwarded()
		},
		Transport:      checkedTransport{t.transport},
		BufferPool:     bufferPool{},
		ModifyResponse: checkResponse,
		ErrorHandler:   func(w http.ResponseWriter, req *http.Request, err error) { r.proxyError(t, w, req, err) },
		ErrorLog:       r.errorLog,
	}
}

// checkResponse adds the sticky cookie for a new client and refuses what a
// target may not send on to a client. The
// standard library already rejects a bare CR or NUL in a header line and
// unfolds obs-fold; a header value with a control character that survived
// is refused here, so that the client never sees it.
func checkResponse(resp *http.Response) error {
	if ex := exchangeOf(resp.Request); ex != nil && ex.cookie != "" {
		resp.Header["Set-Cookie"] = append(resp.Header["Set-Cookie"], ex.cookie)
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			for i := 0; i < len(v); i++ {
				if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
					return fmt.Errorf("response header %q has a control character: %w", k, errBadResponse)
				}
			}
		}
	}
	return nil
}

var errBadResponse = errors.New("malformed response from the target")

// exchange is the router's state of one request, allocated once: the
// status recorder, the sticky cookie to set on a new client's answer and
// the client's upload.
type exchange struct {
	rec    recorder
	cookie string
	body   trackedBody
}

type exchangeKey struct{}

// exchangeOf is the exchange of a request the router forwards, or nil.
func exchangeOf(req *http.Request) *exchange {
	ex, _ := req.Context().Value(exchangeKey{}).(*exchange)
	return ex
}

// ServeHTTP routes one client request of the traffic listener.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.serve(w, req, 0) }

// servePort routes one client request of a stack port (ServePort).
func (r *Router) servePort(w http.ResponseWriter, req *http.Request) {
	port := stackPort(req)
	if port == 0 { // ServePort always sets it; never route a stack port by host
		port = -1
	}
	r.serve(w, req, port)
}

// serve routes one client request: by its stack port when port is not 0,
// else by host, production split and header.
func (r *Router) serve(w http.ResponseWriter, req *http.Request, port int) {
	start := time.Now()
	ex := &exchange{rec: recorder{ResponseWriter: w}}
	rec := &ex.rec
	if len(req.TransferEncoding) > 0 && headHadContentLength(req) {
		// Framed by Transfer-Encoding alone (net/http dropped the
		// Content-Length); RFC 9112 §6.1: close after answering.
		closeAfterResponse(w)
	}
	if status, msg := checkHead(req); status != 0 {
		r.writeLocal(rec, req, status, msg)
		r.finish(req, decision{rule: ruleProduction}, rec.status, start)
		return
	}
	stack, hasStack := "", false
	id, cookie := "", ""
	if port == 0 {
		if vs := req.Header[stackHeader]; len(vs) > 0 && vs[0] != "" {
			stack, hasStack = vs[0], true
		}
		if c, err := req.Cookie(cookieName); err == nil && c.Value != "" {
			id = c.Value
		} else {
			cookie, id = newClientCookie()
		}
	}
	var d decision
	for attempt := 0; ; attempt++ {
		if port != 0 {
			d = r.snap.Load().routePort(port)
		} else {
			d = r.snap.Load().route(req.Host, stack, hasStack, id)
		}
		if d.status != 0 || d.t.acquire() {
			break
		}
		if attempt == 3 {
			d = decision{rule: d.rule, status: http.StatusServiceUnavailable, msg: "the routing table is changing; retry"}
			break
		}
		// the target began draining: route again by the new table
	}
	if d.status != 0 {
		r.writeLocal(rec, req, d.status, d.msg)
		r.finish(req, d, rec.status, start)
		return
	}
	if d.rule == ruleProduction {
		ex.cookie = cookie // only production pins clients
	}
	// Deferred: a response cut mid-stream ends the handler with a panic
	// (http.ErrAbortHandler), and the request must still leave the count.
	defer func() {
		d.t.release()
		r.finish(req, d, rec.status, start)
	}()
	r.forward(ex, req, d.t)
}

// forward sends req to t. The request is cancelled when the client leaves
// (the server cancels its context), and cut when t's drain deadline passes
// (t.cut closes its connections).
//
// A target may stream its answer while it still reads the upload (full
// duplex). net/http then no longer closes the connection after a body it
// could not read to its end, so forward does: bytes after a broken or
// unread body must never be read as the next request.
func (r *Router) forward(ex *exchange, req *http.Request, t *target) {
	_ = http.NewResponseController(ex.rec.ResponseWriter).EnableFullDuplex() // HTTP/1 only; nothing to do otherwise
	hasBody := req.Body != nil && req.Body != http.NoBody
	out := req
	if hasBody || ex.cookie != "" {
		out = req.WithContext(context.WithValue(req.Context(), exchangeKey{}, ex))
	}
	if hasBody {
		ex.body.ReadCloser = req.Body
		out.Body = &ex.body
	}
	ex.rec.hold = true
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler || ex.rec.held == 0 {
				// Part of the answer is out: let what is written reach
				// the client, then cut the connection (net/http closes
				// it on this panic).
				_ = http.NewResponseController(ex.rec.ResponseWriter).Flush()
				panic(v)
			}
			r.brokenAnswer(t, &ex.rec, req)
		}
		ex.rec.commit()
		if hasBody && !ex.body.ended() {
			closeAfterResponse(ex.rec.ResponseWriter)
		}
	}()
	t.proxy.ServeHTTP(&ex.rec, out)
}

// brokenAnswer answers for a target whose answer broke off before any of
// its body reached the client: its status is still held back, so the
// client gets a 502 instead, without the target's headers.
func (r *Router) brokenAnswer(t *target, rec *recorder, req *http.Request) {
	rec.held, rec.status = 0, 0
	clear(rec.Header())
	if req.Context().Err() != nil {
		rec.status = statusClientGone // the client left: nobody to answer
		return
	}
	msg := fmt.Sprintf("target %q failed: its answer broke off before its body", t.name)
	if t.cutCtx.Err() != nil {
		msg = fmt.Sprintf("target %q: drain deadline passed before it answered (the table removed it)", t.name)
	}
	r.log.Warn("request to target failed", "target", t.name, "status", http.StatusBadGateway, "error", "answer broke off before its body")
	r.writeLocal(rec, req, http.StatusBadGateway, msg)
}

// trackedBody remembers why reading the client's request body failed, so a
// malformed upload is the client's 400, not the target's 502, and whether
// it was read to its end.
type trackedBody struct {
	io.ReadCloser
	err atomic.Pointer[error]
	eof atomic.Bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		b.eof.Store(true)
	case err != nil:
		b.err.CompareAndSwap(nil, &err)
	}
	return n, err
}

// ended reports whether the body was read to its end without an error.
func (b *trackedBody) ended() bool { return b.eof.Load() && b.err.Load() == nil }

// clientBodyError is the error reading req's body gave, if any.
func clientBodyError(req *http.Request) error {
	if ex := exchangeOf(req); ex != nil {
		if p := ex.body.err.Load(); p != nil {
			return *p
		}
	}
	return nil
}

// checkHead applies the ALB's limits on the request head that net/http does
// not apply itself (it limits the whole head to maxHeadBytes).
func checkHead(req *http.Request) (int, string) {
	if req.ProtoMajor != 1 {
		return http.StatusHTTPVersionNotSupported, "only HTTP/1.0 and HTTP/1.1 are served"
	}
	if len(req.RequestURI) > maxURIBytes {
		return http.StatusRequestURITooLong, fmt.Sprintf("request target longer than %d bytes", maxURIBytes)
	}
	if len(req.Host)+len("Host: ") > maxHeaderLine {
		return http.StatusRequestHeaderFieldsTooLarge, "Host header longer than 16 KiB"
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			if len(k)+2+len(v) > maxHeaderLine {
				return http.StatusRequestHeaderFieldsTooLarge, fmt.Sprintf("header %s longer than 16 KiB", truncate(k))
			}
		}
	}
	return 0, ""
}

// proxyError answers a request the target failed. The body names the
// target and what happened, never an internal address.
func (r *Router) proxyError(t *target, w http.ResponseWriter, req *http.Request, err error) {
	rec := w.(*recorder)
	var status int
	var msg string
	switch {
	case t.cutCtx.Err() != nil:
		status, msg = http.StatusBadGateway, fmt.Sprintf("target %q: drain deadline passed before it answered (the table removed it)", t.name)
	case errors.Is(err, context.Canceled) || clientGone(clientBodyError(req)):
		rec.status = statusClientGone // the client left: nobody to answer
		r.log.Debug("client left before the answer", "target", t.name)
		return
	case clientBodyError(req) != nil:
		status, msg = http.StatusBadRequest, "malformed request body: "+clientBodyError(req).Error()
	case isTimeout(err):
		status, msg = http.StatusGatewayTimeout, fmt.Sprintf("target %q did not answer within the idle timeout (%s)", t.name, time.Duration(r.idleTimeout.Load()))
	default:
		status, msg = http.StatusBadGateway, fmt.Sprintf("target %q failed: %s", t.name, failure(err))
	}
	r.log.Warn("request to target failed", "target", t.name, "status", status, "error", err.Error())
	r.writeLocal(rec, req, status, msg)
}

// clientGone reports whether err means the client went away.
func clientGone(err error) bool {
	var ne net.Error
	return err != nil && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.As(err, &ne) && ne.Timeout())
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// failure says what went wrong in words that carry no address.
func failure(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "it refused the connection (is the app listening?)"
	case errors.Is(err, errBadResponse), errors.Is(err, errUnsolicited):
		return err.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "it closed the connection without a complete answer"
	case errors.Is(err, net.ErrClosed):
		return "the connection was closed"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "its host name does not resolve (is its container running?)"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return "cannot connect to it"
	}
	return "malformed or incomplete answer"
}

// writeLocal writes a plain-text answer from the router itself.
func (r *Router) writeLocal(w http.ResponseWriter, req *http.Request, status int, msg string) {
	h := w.Header()
	h.Del("Set-Cookie")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.shutting.Load() {
		h.Set("Connection", "close")
	}
	w.WriteHeader(status)
	if req.Method != http.MethodHead {
		_, _ = io.WriteString(w, msg+"\n") // a failed write means the client left
	}
}

// bufferPool lends the proxy its copy buffers.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *buffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }
