package pth

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// hubHash is torch.hub's pattern for the hash in a file name
// (torch.hub.HASH_REGEX), with at least 8 digits so that names such as
// "resnet-50.pth" do not count.
var hubHash = regexp.MustCompile(`-([a-f0-9]{8,})\.`)

// HubHash returns the SHA-256 prefix that torch.hub's naming convention puts
// in a checkpoint's file name, "NAME-HASH.EXT" ("bagnet32-2ddd53ed.pth.tar":
// "2ddd53ed"), or "" when the name carries none.
func HubHash(path string) string {
	m := hubHash.FindStringSubmatch(filepath.Base(path))
	if m == nil {
		return ""
	}
	return m[1]
}

// CheckHubHash reports whether sum, the hex SHA-256 of the file at path,
// agrees with the hash in its name (always, for a name without one).
func CheckHubHash(path, sum string) error {
	want := HubHash(path)
	if want == "" || strings.HasPrefix(strings.ToLower(sum), want) {
		return nil
	}
	return fmt.Errorf("SHA-256 %s... does not start with %s, the hash in the file's name: the file is damaged or not the one the name promises", sum[:min(len(sum), 16)], want)
}
