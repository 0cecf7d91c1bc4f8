package search

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// QueryError is a query the index cannot run; Reason says why, for the
// person who typed it.
type QueryError struct{ Reason string }

func (e *QueryError) Error() string { return e.Reason }

func queryErrorf(format string, args ...any) error {
	return &QueryError{Reason: fmt.Sprintf(format, args...)}
}

// MaxQueryWords bounds the work one search can ask for.
const MaxQueryWords = 32

// MaxLoneCharacters bounds the characters of a spaceless script standing
// alone in a query (see parseText): each is a prefix of the hundreds of
// pairs a common character begins, and 32 of them read twenty times the
// postings of 32 words that every record holds.
const MaxLoneCharacters = 4

// appendTokens appends the tokens of s to buf, end to end, and where each
// of them ends in buf to ends. A token is a run of letters and digits,
// lowercased, with diacritics removed ("Éducation" gives "education"), as
// SQLite's unicode61 tokenizer with remove_diacritics does, and further:
// compatibility forms are their letters, a final sigma a sigma (see
// foldRune). Combining marks belong to the token they follow and are
// dropped; any other character separates tokens.
//
// Scripts written without spaces between words (Chinese, Japanese, Thai,
// see spaceless) have no words to cut at: a run of their characters gives
// each pair of neighbours as a token, and its last character alone
// ("开放政府" gives 开放, 放政, 政府, 府), so that a word inside a sentence is
// found by its pairs (parseText: 政府 finds the sentence; a character
// alone, as a prefix, finds it too).
func appendTokens(buf []byte, ends []uint32, s string) ([]byte, []uint32) {
	start := len(buf) // of the token being read
	var prevBuf, curBuf [4 * utf8.UTFMax]byte
	prev := prevBuf[:0] // the last character of a spaceless run, folded, while in one
	inRun := false
	for i := 0; i < len(s); {
		if inRun {
			if r, size := utf8.DecodeRuneInString(s[i:]); !spaceless(r) {
				if kept, ok := foldRune(curBuf[:0], r); ok && len(kept) == 0 {
					// A combining mark (a decomposed dakuten, a
					// variation selector): part of the run, dropped.
					i += size
					continue
				}
				// The run ends: its last character, alone.
				buf = append(buf, prev...)
				ends = append(ends, uint32(len(buf)))
				start, inRun = len(buf), false
			}
		}
		// Most of a text is letters and digits already in the form
		// tokens keep: a run of them is copied at once, not byte by byte.
		j := i
		for j < len(s) && asciiClasses[s[j]] == asciiKept {
			j++
		}
		if j > i {
			buf = append(buf, s[i:j]...)
			i = j
			continue
		}
		c := s[i]
		switch asciiClasses[c] {
		case asciiUpper:
			buf = append(buf, c+'a'-'A')
			i++
			continue
		case asciiSeparator:
			if len(buf) > start {
				ends = append(ends, uint32(len(buf)))
				start = len(buf)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		var ok bool
		switch {
		case spaceless(r):
			cur, letter := foldRune(curBuf[:0], r)
			if !letter {
				// A sign of the script that is no letter (Thai's ฿):
				// it ends the run, as a separator.
				if inRun {
					buf = append(buf, prev...)
					inRun = false
				}
				break
			}
			if len(cur) == 0 {
				continue // a combining mark (a Thai vowel sign): dropped
			}
			if len(buf) > start { // a token of other letters before it ends
				ends = append(ends, uint32(len(buf)))
				start = len(buf)
			}
			// Each character it folds to is one of the run: Lao ໝ is
			// ຫ and ມ, as the word is also written.
			for len(cur) > 0 {
				_, n := utf8.DecodeRune(cur)
				if inRun { // the pair of it and the one before
					buf = append(append(buf, prev...), cur[:n]...)
					ends = append(ends, uint32(len(buf)))
					start = len(buf)
				}
				prev = append(prevBuf[:0], cur[:n]...)
				inRun = true
				cur = cur[n:]
			}
			continue
		default:
			buf, ok = fold(buf, r)
		}
		if !ok && len(buf) > start {
			ends = append(ends, uint32(len(buf)))
			start = len(buf)
		}
	}
	if inRun {
		buf = append(buf, prev...)
	}
	if len(buf) > start {
		ends = append(ends, uint32(len(buf)))
	}
	return buf, ends
}

// fold is foldRune, the accented letters of European languages looked up
// in latinFolds rather than decomposed.
func fold(buf []byte, r rune) ([]byte, bool) {
	if latinFirst <= r && r < latinEnd {
		f := &latinFolds[r-latinFirst]
		if f.letter {
			buf = append(buf, f.folded...)
		}
		return buf, f.letter
	}
	return foldRune(buf, r)
}

// spaceless reports whether r is of a script written without spaces
// between words: Han, Hiragana and Katakana (Chinese and Japanese, with
// the long vowel mark ー, which Unicode gives no script), Thai, Lao, Khmer,
// Myanmar.
func spaceless(r rune) bool {
	if r < 0x0E00 { // below Thai: Latin, Greek, Cyrillic, Arabic, Indic...
		return false
	}
	return r == 'ー' || r == 'ｰ' || unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

// What appendTokens does with each byte, by asciiClasses.
const (
	asciiSeparator = iota // an ASCII character other than a letter or digit
	asciiKept             // a lowercase letter or a digit: kept as it is
	asciiUpper            // an uppercase letter: kept in lower case
	notASCII              // the first byte of a multibyte character, or one of its others
)

var asciiClasses = func() (t [256]uint8) {
	for c := utf8.RuneSelf; c < len(t); c++ {
		t[c] = notASCII
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = asciiKept
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = asciiKept, asciiUpper
	}
	return t
}()

// foldRune appends to buf what a token keeps of r, if r belongs in tokens:
// a letter or digit, lowercased and without diacritics, or nothing for a
// combining mark. ok is false for a separator.
//
// A rune is decomposed by compatibility (NFKD), so that the forms a text
// pasted from a PDF or typed on a CJK keyboard holds are the letters they
// stand for: a ligature (ﬁ is f and i), a fullwidth letter (Ｄ is D), a
// superscript. A Greek final sigma is a sigma, as case folding has it
// (ΔΙΑΦΑΝΕΙΑΣ and διαφάνειας are one word), so is ß ss (STRASSE and
// Straße), and the Arabic tatweel, which only stretches a word, is
// dropped.
func foldRune(buf []byte, r rune) (_ []byte, ok bool) {
	switch {
	case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || r == tatweel:
		// A combining mark: part of the token, but a diacritic.
		return buf, true
	case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mc, r):
		// Decompose (é is e and a combining acute) and keep the letters
		// and digits.
		var in [utf8.UTFMax]byte
		var decomp [32]byte
		d := norm.NFKD.Append(decomp[:0], in[:utf8.EncodeRune(in[:], r)]...)
		for len(d) > 0 {
			dr, n := utf8.DecodeRune(d)
			d = d[n:]
			if !unicode.IsLetter(dr) && !unicode.IsNumber(dr) && !unicode.Is(unicode.Mc, dr) || dr == tatweel {
				continue // a mark, or what a compatibility form adds (the slash of ½)
			}
			dr = unicode.ToLower(dr)
			switch dr {
			case 'ς':
				dr = 'σ'
			case 'ß': // and ẞ: ss, as case folding has it (Straße is strasse)
				buf = append(buf, "ss"...)
				continue
			}
			buf = utf8.AppendRune(buf, dr)
		}
		return buf, true
	}
	return buf, false
}

// tatweel is the Arabic letter that stretches a word (المـشاركة is
// المشاركة): a letter to Unicode, nothing to a reader.
const tatweel = '\u0640'

// latinFirst and latinEnd bound the Latin-1 Supplement and Latin Extended-A
// and -B blocks, whose letters (é, ç, ñ, ø, ł...) fill the texts of most
// catalogs: tokenize looks them up in latinFolds rather than decomposing
// each one, which took eight times as long as the rest of a French text.
const latinFirst, latinEnd = 0xC0, 0x250

// latinFolds is foldRune's answer for each rune of the Latin blocks, worked
// out once.
var latinFolds = func() (t [latinEnd - latinFirst]struct {
	folded string
	letter bool
}) {
	for r := rune(latinFirst); r < latinEnd; r++ {
		b, ok := foldRune(nil, r)
		t[r-latinFirst].folded, t[r-latinFirst].letter = string(b), ok
	}
	return t
}()

// Tokens returns the tokens of s, as the index sees them.
func Tokens(s string) []string {
	var out []string
	buf, ends := appendTokens(nil, nil, s)
	start := uint32(0)
	for _, end := range ends {
		out = append(out, string(buf[start:end]))
		start = end
	}
	return out
}

// A phrase is one word of a query: every record it selects must contain
// the token, or with prefix a token starting with it.
type phrase struct {
	token  string
	prefix bool
}

// CheckText reports whether text can be searched for: it has words, and not
// too many. Searches refuse the same texts with the same error.
func CheckText(text string) error {
	_, err := parseText(text)
	return err
}

// parseText turns text as people type it into the words a search must
// match: all of them, in any field; a "*" right after the last word makes it
// a prefix ("part*" matches "participation"). No other character has a
// meaning. In scripts without spaces, a run of characters is one word,
// matched by its pairs of neighbouring characters, and a character alone
// is a prefix. Text with no words, with more than MaxQueryWords, or with
// more than MaxLoneCharacters characters alone, is refused with a
// *QueryError.
func parseText(text string) ([]phrase, error) {
	toks := Tokens(text)
	if len(toks) == 0 {
		return nil, queryErrorf("%q has no words to search for", text)
	}
	ps := make([]phrase, 0, min(len(toks), 2*MaxQueryWords))
	words, lone := 0, 0
	for i, t := range toks {
		if words > MaxQueryWords {
			// Refused now: each character standing alone is looked up
			// among the phrases before it, a query's square otherwise.
			return nil, queryErrorf("the query has more than %d words", MaxQueryWords)
		}
		r, size := utf8.DecodeRuneInString(t)
		if !spaceless(r) {
			words++
			ps = append(ps, phrase{token: t})
			continue
		}
		// Tokens of a spaceless script (see appendTokens): a run of them
		// is one word, however long. A pair that goes on from the pair
		// before is of its run: past MaxQueryWords tokens, the run's
		// first pairs select enough, and the others are left out. A
		// character alone is the last of a run, which the pair before
		// holds, or a run of one, found wherever it begins a pair too,
		// as a prefix.
		goesOn := i > 0 && isPair(toks[i-1]) && strings.HasPrefix(t, lastRune(toks[i-1]))
		switch {
		case size == len(t) && goesOn:
		case size == len(t):
			words++
			if p := (phrase{token: t, prefix: true}); !slices.Contains(ps, p) {
				lone++
				ps = append(ps, p)
			}
		case !goesOn:
			words++
			ps = append(ps, phrase{token: t})
		case len(ps) < MaxQueryWords:
			ps = append(ps, phrase{token: t})
		}
	}
	if words > MaxQueryWords {
		return nil, queryErrorf("the query has more than %d words", MaxQueryWords)
	}
	if lone > MaxLoneCharacters {
		return nil, queryErrorf("the query has %d characters of Chinese, Japanese or Thai standing alone, more than %d: write the words whole", lone, MaxLoneCharacters)
	}
	if t := strings.TrimSpace(text); strings.HasSuffix(t, "*") && lastWordEndsAtStar(t) {
		ps[len(ps)-1].prefix = true
	}
	return ps, nil
}

// isPair reports whether t is a pair of characters of a spaceless script
// (see appendTokens).
func isPair(t string) bool {
	r, _ := utf8.DecodeRuneInString(t)
	return spaceless(r) && utf8.RuneCountInString(t) == 2
}

// lastRune is the last character of t.
func lastRune(t string) string {
	_, size := utf8.DecodeLastRuneInString(t)
	return t[len(t)-size:]
}

// lastWordEndsAtStar reports whether the star(s) at the end of t follow a
// word directly ("part*"), not a separator ("part *").
func lastWordEndsAtStar(t string) bool {
	t = strings.TrimRight(t, "*")
	r, _ := utf8.DecodeLastRuneInString(t)
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

// SortKey is the key a name sorts by: its letters and digits folded as
// tokens are (lowercase, without diacritics, compatibility forms as their
// letters), its other characters as they are, so that "Écrivons" sorts
// among the e's rather than after "Zeste", as a byte order of the
// lowercased name had it.
func SortKey(name string) string {
	buf := make([]byte, 0, len(name))
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if asciiClasses[c] == asciiUpper {
				c += 'a' - 'A'
			}
			buf = append(buf, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(name[i:])
		i += size
		var ok bool
		if buf, ok = fold(buf, r); !ok {
			buf = utf8.AppendRune(buf, r) // a separator, kept
		}
	}
	return string(buf)
}
