package expr

import (
	"strings"
	"unicode/utf8"
)

// tokKind classifies a token.
type tokKind uint8

const (
	tEOF   tokKind = iota // end of input; its text is "<EOF>"
	tIdent                // attribute name, keyword or function name: [A-Za-z][A-Za-z0-9_]*
	tName                 // expression attribute name: #[A-Za-z0-9_]+
	tValue                // expression attribute value: :[A-Za-z0-9_]+
	tInt                  // list index: [0-9]+
	tPunct                // ( ) [ ] , . = <> < <= > >= + -
	tBad                  // any other character, one rune
)

// token is one lexeme of an expression; pos and end are byte offsets in the
// source, so error messages can quote the source around a token.
type token struct {
	kind tokKind
	text string
	pos  int
	end  int
}

// eofText is how DynamoDB names the end of input in syntax errors.
const eofText = "<EOF>"

// lex splits src into tokens, ending with a tEOF token. It never fails:
// characters that start no token become tBad tokens, which the parser
// reports as syntax errors with their context.
func lex(src string) []token {
	var toks []token
	for i := skipSpace(src, 0); i < len(src); i = skipSpace(src, i) {
		t := lexOne(src, i)
		toks = append(toks, t)
		i = t.end
	}
	return append(toks, token{kind: tEOF, text: eofText, pos: len(src), end: len(src)})
}

// skipSpace returns the offset of the first non-blank byte at or after i.
func skipSpace(src string, i int) int {
	for i < len(src) && strings.IndexByte(" \t\r\n", src[i]) >= 0 {
		i++
	}
	return i
}

// lexOne scans the token that starts at src[i].
func lexOne(src string, i int) token {
	c := src[i]
	switch {
	case isLetter(c):
		return span(src, tIdent, i, scanWord(src, i+1))
	case isDigit(c):
		return span(src, tInt, i, scanDigits(src, i+1))
	case (c == '#' || c == ':') && i+1 < len(src) && isWordByte(src[i+1]):
		kind := tName
		if c == ':' {
			kind = tValue
		}
		return span(src, kind, i, scanWord(src, i+1))
	}
	if n := punctLen(src[i:]); n > 0 {
		return span(src, tPunct, i, i+n)
	}
	_, size := utf8.DecodeRuneInString(src[i:])
	return span(src, tBad, i, i+size)
}

// span builds the token src[pos:end].
func span(src string, kind tokKind, pos, end int) token {
	return token{kind: kind, text: src[pos:end], pos: pos, end: end}
}

// punctLen returns the length of the punctuation token that starts s, or 0.
func punctLen(s string) int {
	if strings.HasPrefix(s, "<>") || strings.HasPrefix(s, "<=") || strings.HasPrefix(s, ">=") {
		return 2
	}
	if strings.IndexByte("()[],.=<>+-", s[0]) >= 0 {
		return 1
	}
	return 0
}

// scanWord returns the end of the run of word bytes starting at i.
func scanWord(src string, i int) int {
	for i < len(src) && isWordByte(src[i]) {
		i++
	}
	return i
}

// scanDigits returns the end of the run of digits starting at i.
func scanDigits(src string, i int) int {
	for i < len(src) && isDigit(src[i]) {
		i++
	}
	return i
}

func isLetter(c byte) bool   { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isWordByte(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' }

// is reports whether t is the punctuation p.
func (t token) is(p string) bool { return t.kind == tPunct && t.text == p }

// isKeyword reports whether t is the identifier kw, ignoring case.
func (t token) isKeyword(kw string) bool { return t.kind == tIdent && strings.EqualFold(t.text, kw) }
