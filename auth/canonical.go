package auth

import (
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The parts of a SigV4 canonical request that come from the HTTP request
// (everything but the payload hash):
//
//	METHOD \n CANONICAL-URI \n CANONICAL-QUERY \n CANONICAL-HEADERS \n
//	SIGNED-HEADERS \n PAYLOAD-HASH
//
// canonicalURI is the escaped path, escaped once more (every service but
// S3 signs a doubly escaped path); canonicalQuery sorts the decoded
// parameters by name then value and escapes them with RFC 3986's
// unreserved set; canonicalHeaders lists the signed headers in the order
// SignedHeaders names them, lower-case name, ':', the values trimmed, their
// inner runs of spaces collapsed, joined with ','.

// appendCanonicalRequest appends to b the canonical request of r up to
// and without the payload hash; skip names the query parameter left out
// (the signature of a presigned request).
func appendCanonicalRequest(b []byte, r *http.Request, signedHeaders, skip string) ([]byte, error) {
	query, err := canonicalQuery(r.URL.RawQuery, skip)
	if err != nil {
		return b, fail(IncompleteSignature, "The query string is not properly URL-encoded: "+err.Error())
	}
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = append(b, canonicalURI(r)...)
	b = append(b, '\n')
	b = append(b, query...)
	b = append(b, '\n')
	b = writeCanonicalHeaders(b, r, signedHeaders)
	b = append(b, '\n')
	b = append(b, signedHeaders...)
	return append(b, '\n'), nil
}

// canonicalURI returns the path of r as SigV4 signs it.
func canonicalURI(r *http.Request) string {
	p := r.URL.EscapedPath()
	if p == "" {
		return "/"
	}
	return escape(p, true)
}

// canonicalQuery returns the query of r as SigV4 signs it, without the
// parameter named skip (the signature of a presigned request).
func canonicalQuery(rawQuery, skip string) (string, error) {
	if rawQuery == "" {
		return "", nil
	}
	type param struct{ k, v string }
	var params []param
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return "", err
		}
		if v, err = url.QueryUnescape(v); err != nil {
			return "", err
		}
		if k != skip {
			params = append(params, param{escape(k, false), escape(v, false)})
		}
	}
	slices.SortFunc(params, func(a, b param) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String(), nil
}

// escape percent-encodes every byte of s but RFC 3986's unreserved
// characters (and '/' when keepSlash), with upper-case hex digits.
func escape(s string, keepSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i], keepSlash) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c, keepSlash) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return string(b)
}

func unreserved(c byte, keepSlash bool) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~' || keepSlash && c == '/'
}

// writeCanonicalHeaders appends the canonical headers of r for the
// ';'-separated signedHeaders to b.
func writeCanonicalHeaders(b []byte, r *http.Request, signedHeaders string) []byte {
	for name := range strings.SplitSeq(signedHeaders, ";") {
		b = append(b, name...)
		b = append(b, ':')
		switch {
		case strings.EqualFold(name, "host"):
			b = appendTrimmed(b, r.Host)
		case strings.EqualFold(name, "content-length"):
			if v, ok := r.Header["Content-Length"]; ok {
				b = appendValues(b, v)
			} else if r.ContentLength >= 0 {
				b = strconv.AppendInt(b, r.ContentLength, 10)
			}
		default:
			b = appendValues(b, headerValues(r.Header, name))
		}
		b = append(b, '\n')
	}
	return b
}

// headerValues returns the values of header name (lower case) in h,
// without allocating: the canonical form of the name is built on the
// stack and a map index by string(bytes) does not copy.
func headerValues(h http.Header, name string) []string {
	var buf [64]byte
	if len(name) > len(buf) {
		return h[textproto.CanonicalMIMEHeaderKey(name)]
	}
	key := buf[:len(name)]
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		key[i] = c
		upper = c == '-'
	}
	return h[string(key)]
}

func appendValues(b []byte, values []string) []byte {
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTrimmed(b, v)
	}
	return b
}

// appendTrimmed appends v without its leading and trailing spaces and
// with each inner run of spaces reduced to one.
func appendTrimmed(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") { // the usual value: nothing to collapse
		return append(b, v...)
	}
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if !space {
				b = append(b, ' ')
			}
			space = true
			continue
		}
		space = false
		b = append(b, c)
	}
	return b
}
