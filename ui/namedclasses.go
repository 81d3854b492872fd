package ui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/teachset"
)

// DefaultSet is the name of a new set of named classes: the folder it
// stands for, so the taught model is "BagNet taught: my-classes".
const DefaultSet = "my-classes"

// NamedClasses are classes the user makes by name in the page and fills
// with image files (Teachable-Machine style). Teaching them is teaching
// the folder they stand for (teachset.NamedPaths): SET/ID/FILE for each
// image, ID the class name slugged (teachset.ClassID), with a classes.tsv
// giving each id its name; the same worker messages and teach request as a
// chosen folder, so the same model file. The page keeps the File objects
// (references to the user's files), never their pixels; nothing is lost
// when teaching fails.
type NamedClasses struct {
	Set     string // the set's name (the folder it stands for)
	Draft   string // the class name being typed
	Classes []*NamedClass
	Note    string // why the last addition was refused, or what was skipped
}

// NamedClass is one class made by name.
type NamedClass struct {
	Name, ID string
	Names    []string   // its files' names, in the order added
	Files    []js.Value // its Files, as Names
	frames   int        // camera frames taken for it so far
}

// cameraName names the next camera frame of the class: camera-001.png,
// camera-002.png, … (a name the class has not got yet).
func (cl *NamedClass) cameraName() string {
	for {
		cl.frames++
		name := fmt.Sprintf("camera-%03d.png", cl.frames)
		if !slices.Contains(cl.Names, name) {
			return name
		}
	}
}

// index is the position of class cl, -1 when it was removed.
func (n *NamedClasses) index(cl *NamedClass) int { return slices.Index(n.Classes, cl) }

// NewNamedClasses is an empty set named DefaultSet.
func NewNamedClasses() *NamedClasses { return &NamedClasses{Set: DefaultSet} }

// AddClass adds an empty class named name; a name without a letter or
// digit, or one whose id another class has, is refused with a message
// (the draft stays).
func (n *NamedClasses) AddClass(name string) error {
	id, err := teachset.ClassID(name)
	if err != nil {
		return fmt.Errorf("class %w", err)
	}
	for _, c := range n.Classes {
		if c.ID == id {
			return fmt.Errorf("there is a class %q already (class names are compared lower-cased, letters and digits only: both are %q)", c.Name, id)
		}
	}
	n.Classes = append(n.Classes, &NamedClass{Name: strings.TrimSpace(name), ID: id})
	return nil
}

// RemoveClass removes class i and its images.
func (n *NamedClasses) RemoveClass(i int) {
	if i >= 0 && i < len(n.Classes) {
		n.Classes = slices.Delete(n.Classes, i, i+1)
	}
}

// AddFiles adds the named files to class i; files that cannot be taught
// from (teachset.CheckFileName) or whose name the class has already are
// skipped and said in the returned message ("" when all were added).
func (n *NamedClasses) AddFiles(i int, names []string, files []js.Value) (added int, msg string) {
	if i < 0 || i >= len(n.Classes) {
		return 0, ""
	}
	c := n.Classes[i]
	var skipped []string
	for k, name := range names {
		if err := teachset.CheckFileName(name); err != nil {
			skipped = append(skipped, err.Error())
			continue
		}
		if slices.Contains(c.Names, name) {
			skipped = append(skipped, name+": the class has a file of that name already")
			continue
		}
		c.Names = append(c.Names, name)
		if k < len(files) {
			c.Files = append(c.Files, files[k])
		} else {
			c.Files = append(c.Files, js.Value{})
		}
		added++
	}
	if len(skipped) > 0 {
		msg = fmt.Sprintf("%s: %d %s not added: %s", c.Name, len(skipped), plural(len(skipped), "file", "files"), strings.Join(skipped, "; "))
	}
	return added, msg
}

// Layout is the folder the classes stand for: its name (the set's name
// slugged), its files' paths with the File of each, and its classes.tsv.
// Fewer than 2 classes, an empty class and a set name without a letter or
// digit are errors that say what to do.
func (n *NamedClasses) Layout() (folder string, paths []string, byPath map[string]js.Value, tsv []byte, err error) {
	folder, err = teachset.ClassID(n.Set)
	if err != nil {
		return "", nil, nil, nil, fmt.Errorf("the set's name %w", err)
	}
	if len(n.Classes) < 2 {
		return folder, nil, nil, nil, fmt.Errorf("%d %s: teaching needs at least 2 (add a class by its name, then its images)", len(n.Classes), plural(len(n.Classes), "class", "classes"))
	}
	named := make([]teachset.Named, len(n.Classes))
	for i, c := range n.Classes {
		named[i] = teachset.Named{Name: c.Name, Files: c.Names}
	}
	paths, tsv, err = teachset.NamedPaths(folder, named)
	if err != nil {
		return folder, nil, nil, nil, err
	}
	byPath = map[string]js.Value{}
	k := 0
	for _, c := range n.Classes {
		for _, f := range c.Files {
			byPath[paths[k]] = f
			k++
		}
	}
	return folder, paths, byPath, tsv, nil
}

// NamedSet is the page's set of named classes (made on first use).
func (c *Root) NamedSet() *NamedClasses {
	if c.Named == nil {
		c.Named = NewNamedClasses()
	}
	return c.Named
}

// TeachNamed teaches the named classes, exactly as the folder they stand
// for would be taught. Bad input (fewer than 2 classes, an empty class) is
// said in the teach panel; the classes and their images stay.
func (c *Root) TeachNamed() {
	n := c.NamedSet()
	if c.Info == nil || c.Busy() || (c.Batch != nil && c.Batch.Running) || (c.Teach != nil && c.Teach.Running) {
		c.Status = "Please wait for the current work to finish."
		return
	}
	folder, paths, byPath, tsv, err := n.Layout()
	if err != nil {
		c.teachFail(&Teaching{Folder: folder}, err.Error())
		return
	}
	c.startTeach(folder, paths, byPath, tsv)
}
