package ui

import (
	"fmt"
	"strings"

	"github.com/vugu/vugu"

	"github.com/bagnetweb/bagnet/protocol"
)

// ClassPicker finds a class to explain among any number of classes (the
// ImageNet models have 1000): empty, it lists the best-scoring classes of
// the analysis; typing filters all classes by part of their name or
// WordNet id. The matches are computed once per query and analysis, not on
// every render.
type ClassPicker struct {
	A        *Analysis
	Classes  []protocol.Class
	Selected int
	OnPick   func(int)

	Query string

	key     string // the query and analysis the matches are for
	matches []ClassMatch
	total   int // classes matching the query, shown or not
}

// ClassMatch is one class in the list.
type ClassMatch struct {
	Index    int
	Name, ID string
	Score    string // "12.3% · #4"
}

// MaxMatches is how many classes the list shows at once.
const MaxMatches = 12

// OnInput follows the search box.
func (c *ClassPicker) OnInput(e vugu.DOMEvent) { c.Query = e.PropString("target", "value") }

// OnKey picks the first match on Enter.
func (c *ClassPicker) OnKey(e vugu.DOMEvent) {
	if e.PropString("key") == "Enter" {
		e.PreventDefault()
		if m := c.Matches(); len(m) > 0 {
			c.Pick(m[0].Index)
		}
	}
}

// Pick shows class k.
func (c *ClassPicker) Pick(k int) {
	if c.OnPick != nil {
		c.OnPick(k)
	}
}

// Matches is the list shown: the classes whose name or id contains the
// query (case-insensitive), best score first, at most MaxMatches.
func (c *ClassPicker) Matches() []ClassMatch {
	q := strings.ToLower(strings.TrimSpace(c.Query))
	id := -1
	if c.A != nil {
		id = c.A.ID
	}
	key := fmt.Sprintf("%d|%d|%s", id, len(c.Classes), q)
	if key == c.key {
		return c.matches
	}
	c.key, c.matches, c.total = key, nil, 0
	var order []int
	if c.A != nil {
		order = c.A.Order()
	} else {
		order = make([]int, len(c.Classes))
		for i := range order {
			order[i] = i
		}
	}
	for _, i := range order {
		if i >= len(c.Classes) {
			continue
		}
		cl := c.Classes[i]
		if q != "" && !strings.Contains(strings.ToLower(cl.Name), q) && !strings.Contains(strings.ToLower(cl.ID), q) {
			continue
		}
		c.total++
		if len(c.matches) < MaxMatches {
			m := ClassMatch{Index: i, Name: cl.Name, ID: cl.ID}
			if c.A != nil {
				m.Score = fmt.Sprintf("%s · #%d", Percent(c.A.Prob(i)), c.A.Rank(i))
			}
			c.matches = append(c.matches, m)
		}
	}
	return c.matches
}

// Summary says what the list shows.
func (c *ClassPicker) Summary() string {
	c.Matches()
	n := len(c.Classes)
	switch {
	case strings.TrimSpace(c.Query) == "" && n <= MaxMatches:
		return fmt.Sprintf("All %d classes, best first.", n)
	case strings.TrimSpace(c.Query) == "":
		return fmt.Sprintf("The %d best of %d classes. Type to search them all.", MaxMatches, n)
	case c.total == 0 && n <= MaxMatches:
		// A small model: say what it can tell apart at all.
		names := make([]string, n)
		for i, k := range c.Classes {
			names[i] = k.Name
		}
		return fmt.Sprintf("No class matches %q: this model knows only these %d classes: %s.",
			strings.TrimSpace(c.Query), n, strings.Join(names, ", "))
	case c.total == 0:
		return fmt.Sprintf("No class matches %q.", strings.TrimSpace(c.Query))
	case c.total > MaxMatches:
		return fmt.Sprintf("%d classes match; the %d best are shown.", c.total, MaxMatches)
	}
	return fmt.Sprintf("%d %s.", c.total, plural(c.total, "class matches", "classes match"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ItemClass marks the class shown.
func (c *ClassPicker) ItemClass(k int) string {
	if k == c.Selected {
		return "match selected"
	}
	return "match"
}

// Pressed is aria-pressed of a class button.
func (c *ClassPicker) Pressed(k int) string { return fmt.Sprint(k == c.Selected) }
