package partiql

import "strings"

// tokKind says what a token is.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tIdent          // a bare identifier or keyword
	tQuoted         // a "double-quoted" identifier
	tString         // a 'single-quoted' string
	tNumber         // a decimal number
	tPunct          // punctuation: ( ) [ ] { } << >> , . : = <> != < <= > >= * ? + - ;
)

// token is one lexical unit; text is the identifier, string or number
// without quotes, or the punctuation.
type token struct {
	kind tokKind
	text string
	pos  int
}

// is reports whether t is the punctuation p.
func (t token) is(p string) bool { return t.kind == tPunct && t.text == p }

// isKeyword reports whether t is the bare word kw, in any case.
func (t token) isKeyword(kw string) bool { return t.kind == tIdent && strings.EqualFold(t.text, kw) }

// puncts are the punctuation tokens, longest first.
var puncts = []string{"<<", ">>", "<=", ">=", "<>", "!=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "=", "<", ">", "*", "?", "+", "-", ";"}

// lex splits src into tokens, ending with tEOF.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for {
		i = skipSpace(src, i)
		if i >= len(src) {
			return append(toks, token{kind: tEOF, pos: i}), nil
		}
		t, next, err := lexOne(src, i)
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		i = next
	}
}

// skipSpace skips white space and -- comments.
func skipSpace(src string, i int) int {
	for i < len(src) {
		switch {
		case src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r':
			i++
		case strings.HasPrefix(src[i:], "--"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		default:
			return i
		}
	}
	return i
}

// lexOne reads the token at i and returns it with the offset after it.
func lexOne(src string, i int) (token, int, error) {
	c := src[i]
	switch {
	case isLetter(c) || c == '_':
		j := i + 1
		for j < len(src) && isWordByte(src[j]) {
			j++
		}
		return token{kind: tIdent, text: src[i:j], pos: i}, j, nil
	case c == '"' || c == '\'':
		return lexQuoted(src, i)
	case isDigit(c) || c == '.' && i+1 < len(src) && isDigit(src[i+1]):
		j := scanNumber(src, i)
		return token{kind: tNumber, text: src[i:j], pos: i}, j, nil
	case c == '`':
		return token{}, 0, errorf("%s", msgIonLiteral)
	}
	for _, p := range puncts {
		if strings.HasPrefix(src[i:], p) {
			return token{kind: tPunct, text: p, pos: i}, i + len(p), nil
		}
	}
	return token{}, 0, malformed("")
}

// lexQuoted reads a quoted identifier or string; a doubled quote stands
// for one.
func lexQuoted(src string, i int) (token, int, error) {
	q := src[i]
	kind := tString
	if q == '"' {
		kind = tQuoted
	}
	var b strings.Builder
	for j := i + 1; j < len(src); j++ {
		if src[j] != q {
			b.WriteByte(src[j])
			continue
		}
		if j+1 < len(src) && src[j+1] == q {
			b.WriteByte(q)
			j++
			continue
		}
		return token{kind: kind, text: b.String(), pos: i}, j + 1, nil
	}
	if kind == tQuoted {
		return token{}, 0, malformed("Unterminated quoted identifier")
	}
	return token{}, 0, malformed("Unterminated string literal")
}

// scanNumber returns the end of the number starting at i: digits, an
// optional fraction and an optional exponent.
func scanNumber(src string, i int) int {
	j := scanDigits(src, i)
	if j < len(src) && src[j] == '.' {
		j = scanDigits(src, j+1)
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		k := j + 1
		if k < len(src) && (src[k] == '+' || src[k] == '-') {
			k++
		}
		if k < len(src) && isDigit(src[k]) {
			j = scanDigits(src, k)
		}
	}
	return j
}

func scanDigits(src string, i int) int {
	for i < len(src) && isDigit(src[i]) {
		i++
	}
	return i
}

func isLetter(c byte) bool   { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isWordByte(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' || c == '$' }
