package expr

import (
	"fmt"
	"strings"
	"testing"
)

func TestLex(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a.b[12] <> :v_1", "ident:a punct:. ident:b punct:[ int:12 punct:] punct:<> value::v_1 eof:<EOF>"},
		{"#n1=:x AND(b)", "name:#n1 punct:= value::x ident:AND punct:( ident:b punct:) eof:<EOF>"},
		{"a<=b>=c<d>e+f-g,", "ident:a punct:<= ident:b punct:>= ident:c punct:< ident:d punct:> ident:e punct:+ ident:f punct:- ident:g punct:, eof:<EOF>"},
		{"_a 1b # : é\x80", "bad:_ ident:a int:1 ident:b bad:# bad:: bad:é bad:\x80 eof:<EOF>"},
		{" \t\r\n", "eof:<EOF>"},
		{"A_1_ #_ :_", "ident:A_1_ name:#_ value::_ eof:<EOF>"},
	}
	kinds := []string{"eof", "ident", "name", "value", "int", "punct", "bad"}
	for _, tt := range tests {
		var got []string
		for _, tok := range lex(tt.in) {
			got = append(got, fmt.Sprintf("%s:%s", kinds[tok.kind], tok.text))
			if tok.kind != tEOF && tt.in[tok.pos:tok.end] != tok.text {
				t.Errorf("%q: token %q at %d..%d", tt.in, tok.text, tok.pos, tok.end)
			}
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("lex(%q)\n got  %s\n want %s", tt.in, g, tt.want)
		}
	}
}
