package imagenet

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// The embedded list: 1000 unique classes in index order (the WordNet ids
// ascending), each with a name.
func TestClasses(t *testing.T) {
	cs := Classes()
	if len(cs) != Len {
		t.Fatalf("%d classes", len(cs))
	}
	ids, names := map[string]bool{}, map[string]bool{}
	for i, c := range cs {
		if ids[c.ID] || names[c.Name] || c.Name == "" || (i > 0 && c.ID <= cs[i-1].ID) {
			t.Errorf("class %d %+v: repeated, unnamed or out of order", i, c)
		}
		ids[c.ID], names[c.Name] = true, true
	}
	for i, want := range map[int]string{0: "n01440764 tench", 1: "n01443537 goldfish", 134: "n02012849 crane bird", 281: "n02123045 tabby", 999: "n15075141 toilet tissue"} {
		if got := cs[i].ID + " " + cs[i].Name; got != want {
			t.Errorf("class %d = %q, want %q", i, got, want)
		}
	}
	cs[0].Name = "changed"
	if Classes()[0].Name != "tench" {
		t.Error("Classes shares its slice with the caller")
	}
}

// The WordNet ids agree, index for index, with the list in ../shared (an
// independent copy; skipped where it is missing).
func TestAgreesWithShared(t *testing.T) {
	b, err := os.ReadFile("../../../shared/data/imagenet_classes.tsv")
	if err != nil {
		t.Skipf("shared class list: %v", err)
	}
	cs := Classes()
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != len(cs) {
		t.Fatalf("shared list has %d lines, ours %d classes", len(lines), len(cs))
	}
	for i, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) != 3 || f[0] != strconv.Itoa(i) || f[1] != cs[i].ID {
			t.Errorf("line %d: %q, ours %s", i+1, l, cs[i].ID)
		}
	}
}

// parse rejects damaged lists.
func TestParseErrors(t *testing.T) {
	good := "0\tn00000001\ta\n1\tn00000002\tb\n"
	for _, tt := range []struct{ in, err string }{
		{good, "2 classes, want 1000"},
		{"0\tn00000001\n", "2 fields"},
		{"1\tn00000001\ta\n", `index "1", want 0`},
		{"0\tn00000002\ta\n1\tn00000001\tb\n", "out of order"},
		{"0\tn00000001\ta\n1\tn00000001\tb\n", "repeated"},
		{"0\tn00000001\t\n", "empty"},
	} {
		if _, err := parse(tt.in); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("parse(%q): %v, want %q", tt.in, err, tt.err)
		}
	}
}
