package github

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/slipway/slipway/internal/naming"
)

// zwsp is a zero-width space written as an entity so that golden files show
// it. GitHub links @mentions, #references and www. autolinks on the rendered
// text (after entities are decoded), so an entity alone does not neuter them;
// a zero-width space after the trigger character does.
const zwsp = "&#8203;"

// cellEntities maps characters that could start HTML, a link, a code span,
// emphasis, math or break a table row to numeric character references. The
// text renders the same but is never parsed as Markdown or HTML.
var cellEntities = map[rune]string{
	'&': "&amp;", '<': "&lt;", '>': "&gt;", '"': "&quot;", '\'': "&#39;",
	'|': "&#124;", '`': "&#96;", '\\': "&#92;", '*': "&#42;", '_': "&#95;",
	'~': "&#126;", '[': "&#91;", ']': "&#93;", '$': "&#36;",
	'@': "@" + zwsp, '#': "#" + zwsp,
}

// escapeCell makes untrusted text (branch names, error text, test output)
// safe inside one GitHub Markdown table cell or one line of prose: no HTML,
// no links, no code spans, no emphasis, no math, no @mentions or #references,
// no line breaks. Longer text is cut to max runes with an ellipsis.
func escapeCell(s string, max int) string {
	s = clip(oneLine(s), max)
	var b strings.Builder
	for i, r := range s {
		if e, ok := cellEntities[r]; ok {
			b.WriteString(e)
			continue
		}
		if r == '.' && strings.HasSuffix(strings.ToLower(s[:i]), "www") {
			b.WriteString(zwsp + ".")
			continue
		}
		if r == '/' && strings.HasSuffix(s[:i], ":/") {
			b.WriteString(zwsp + "/")
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// escapePre makes untrusted multi-line text safe between <pre> and </pre>:
// GitHub does not parse Markdown, mentions or references inside <pre>, so
// only HTML metacharacters and control characters need care. Text longer
// than max runes keeps its end, where the cause of a failure usually is.
func escapePre(s string, max int) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.TrimRight(s, "\n")
	if n := utf8.RuneCountInString(s); n > max {
		r := []rune(s)
		s = "…" + string(r[n-max:])
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case unsafeRune(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// oneLine folds line breaks into spaces and replaces other control and
// bidirectional-override characters with U+FFFD, so that nothing invisible
// reorders or hides text.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r\n", " ")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' || r == '\u0085' || r == '\t':
			return ' '
		case unsafeRune(r):
			return utf8.RuneError
		}
		return r
	}, s)
}

// unsafeRune reports control characters and the Unicode bidirectional
// formatting characters ("Trojan Source").
func unsafeRune(r rune) bool {
	if unicode.IsControl(r) {
		return true
	}
	switch {
	case r == '\u200e' || r == '\u200f' || r == '\u061c':
		return true
	case r >= '\u202a' && r <= '\u202e':
		return true
	case r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// clip cuts s to max runes, ending with an ellipsis when cut.
func clip(s string, max int) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

var (
	hexSHA    = regexp.MustCompile(`^[0-9a-f]{7,64}$`)
	digestRE  = regexp.MustCompile(`^([a-z0-9]+):([0-9a-f]{32,})$`)
	httpURLRE = regexp.MustCompile(`^https?://[^\s<>"'\x60|\\]+$`)
)

// shortSHA returns the first 7 characters of a hex commit id, as code, or
// the escaped text when it is not a commit id.
func shortSHA(sha string) string {
	if !hexSHA.MatchString(sha) {
		return escapeCell(sha, 40)
	}
	return "`" + naming.ShortCommit(sha) + "`"
}

// shortDigest returns "sha256:" and the first 12 hex digits of an image
// digest (a "repo@sha256:…" reference is accepted), as code.
func shortDigest(d string) string {
	if i := strings.LastIndexByte(d, '@'); i >= 0 {
		d = d[i+1:]
	}
	m := digestRE.FindStringSubmatch(d)
	if m == nil {
		return escapeCell(d, 40)
	}
	return "`" + m[1] + ":" + m[2][:12] + "`"
}

// link renders an http(s) URL as a Markdown link to itself, or escaped text
// when it is anything else (javascript:, data:, spaces, quotes).
func link(u string) string {
	if !httpURLRE.MatchString(u) {
		return escapeCell(u, 200)
	}
	return "<" + u + ">"
}
