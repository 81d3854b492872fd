// Command fewshot measures the few-shot accuracy of package teach on
// Imagenette: it pools the backbone's features of the data set's images
// once (cached in a file), teaches heads from a few images per class and
// scores the other images with the quantised int8 head, exactly as
// 'bagnet eval' would score the taught model file.
//
//	go run ./teach/internal/fewshot [-data DIR] [-weights FILE] [-cache FILE]
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"runtime"

	"github.com/bagnetweb/bagnet/weights"
)

func main() {
	data := flag.String("data", "../shared/data/imagenette", "the data set: train/ and val/, one folder per class")
	wpath := flag.String("weights", "weights/shipped/bagnet33_imagenette_int8.safetensors", "the int8 backbone")
	cpath := flag.String("cache", "/tmp/fewshot-features.gob", "the feature cache (made when missing or for other weights)")
	workers := flag.Int("workers", runtime.NumCPU(), "images whose features are computed in parallel")
	res := flag.Bool("compare", false, "compare the methods tried, with float heads, instead of the report")
	flag.Parse()
	researchMode = *res
	if err := run(*data, *wpath, *cpath, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "fewshot:", err)
		os.Exit(1)
	}
}

func run(data, wpath, cpath string, workers int) error {
	b, err := weights.ReadFile(wpath)
	if err != nil {
		return err
	}
	m, err := weights.Load(b)
	if err != nil {
		return err
	}
	if m.Int8 == nil {
		return fmt.Errorf("%s: not an int8 model", wpath)
	}
	// The cache is keyed by the backbone alone: the prior does not change
	// the features.
	id, err := backboneID(m)
	if err != nil {
		return err
	}
	c, err := loadCache(cpath)
	if err != nil || c.Weights != id || c.Version != cacheVersion {
		c = &cache{Weights: id, Version: cacheVersion}
		var vc []string
		if c.Classes, c.Train, err = extract(m, data, "train", devTrain, devExtra, workers); err != nil {
			return err
		}
		if vc, c.Val, err = extract(m, data, "val", 0, valDraws*10, workers); err != nil {
			return err
		}
		if fmt.Sprint(vc) != fmt.Sprint(c.Classes) {
			return fmt.Errorf("train classes %v, val classes %v", c.Classes, vc)
		}
		if err := saveCache(cpath, c); err != nil {
			return err
		}
	}
	if *windowsFlag {
		mp, err := mapsCache(data, wpath, c, workers)
		if err != nil {
			return err
		}
		mapsResearch(c, mp)
		return nil
	}
	if *tryFlag == "prior" {
		tryPrior(c, data, wpath, workers)
		return nil
	}
	if *tryFlag != "" {
		w := *tryFlag
		if w == "all" {
			w = ""
		}
		tryAll(c, w)
		return nil
	}
	if researchMode {
		research(c)
		return nil
	}
	return report(c, m.Prior)
}

// backboneID is the SHA-256 of m's file without its prior.
func backboneID(m *weights.Model) (string, error) {
	bare := *m
	bare.Prior = nil
	b, err := weights.Encode(&bare)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

var (
	researchMode bool
	windowsFlag  = flag.Bool("windows", false, "try LDA with covariances from window means of the maps (caches maps in /tmp/fewshot-maps.gob)")
)
