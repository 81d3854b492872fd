package main

import (
	"fmt"
	"time"

	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/teach"
)

const (
	maxTrain = 20  // train images per class of the train protocol
	devExtra = 60  // train images per class pooled with all views: [0, 20) for the train protocol, [20, 60) for dev draws
	devTrain = 200 // train images per class pooled: [100, 200) score the dev draws
	valDraws = 4   // draws of 10 val images per class (all views)
)

// example makes the teaching example of an item (views 0 and 1, as
// teach.Extract).
func example(it item) teach.Example {
	return teach.Example{Class: it.Class, Image: it.Views[0], Flip: it.Views[1]}
}

// score counts the items the int8 head classifies correctly (top-1) and
// with the class among its top 5.
func score(q *model.QLinear, items []item) (top1, top5 int) {
	for _, it := range items {
		lg := teach.Logits(q, it.Views[0])
		rank := 0
		for c, v := range lg {
			if v > lg[it.Class] || (v == lg[it.Class] && c < it.Class) {
				rank++
			}
		}
		if rank == 0 {
			top1++
		}
		if rank < 5 {
			top5++
		}
	}
	return top1, top5
}

// firstK returns the first k items of each class (by position) of items,
// starting at the from-th, and the rest.
func split(items []item, from, k int) (train, rest []item) {
	pos := map[int]int{}
	for _, it := range items {
		p := pos[it.Class]
		pos[it.Class]++
		if p >= from && p < from+k {
			train = append(train, it)
		} else {
			rest = append(rest, it)
		}
	}
	return train, rest
}

func teachHead(train []item, classes int, opt teach.Options) (model.QLinear, error) {
	var ex []teach.Example
	for _, it := range train {
		ex = append(ex, example(it))
	}
	h, err := teach.Train(ex, classes, opt)
	if err != nil {
		return model.QLinear{}, err
	}
	return h.Quantize(), nil
}

func report(c *cache, prior []int8) error {
	type method struct {
		name string
		opt  teach.Options
	}
	ms := []method{{"default (" + string(teach.DefaultMethod) + ")", teach.Options{}}}
	if prior != nil {
		ms = []method{
			{"default (" + string(teach.DefaultMethod) + " with the backbone's feature prior)", teach.Options{Prior: prior}},
			{"lda without the prior (-no-prior)", teach.Options{}},
		}
	}
	ms = append(ms, method{"logreg", teach.Options{Method: teach.LogReg}})
	for _, m := range ms {
		fmt.Printf("## %s\n", m.name)
		if err := reportOne(c, m.opt); err != nil {
			return err
		}
	}
	return nil
}

func reportOne(c *cache, opt teach.Options) error {
	K := len(c.Classes)
	fmt.Println("val draws: taught from val images [10d, 10d+10) of each class (sorted by name), scored on the other val images")
	var sum float64
	for d := 0; d < valDraws; d++ {
		train, rest := split(c.Val, 10*d, 10)
		t0 := time.Now()
		q, err := teachHead(train, K, opt)
		if err != nil {
			return err
		}
		el := time.Since(t0)
		t1, t5 := score(&q, rest)
		acc := 100 * float64(t1) / float64(len(rest))
		sum += acc
		fmt.Printf("  images %2d-%2d: top-1 %.1f%% (%d of %d), top-5 %.1f%%  (training %.2f s)\n", 10*d, 10*d+9, acc, t1, len(rest), 100*float64(t5)/float64(len(rest)), el.Seconds())
	}
	fmt.Printf("  mean top-1 %.2f%%\n", sum/valDraws)
	fmt.Println("train draws: taught from train images [10d, 10d+10) of each class, scored on all val images")
	sum = 0
	for d := 0; d < valDraws; d++ {
		train, _ := split(c.Train, 10*d, 10)
		q, err := teachHead(train, K, opt)
		if err != nil {
			return err
		}
		t1, _ := score(&q, c.Val)
		acc := 100 * float64(t1) / float64(len(c.Val))
		sum += acc
		fmt.Printf("  images %2d-%2d: top-1 %.1f%% (%d of %d)\n", 10*d, 10*d+9, acc, t1, len(c.Val))
	}
	fmt.Printf("  mean top-1 %.2f%%\n", sum/valDraws)
	fmt.Println("train protocol: taught from the first k train images of each class, scored on all val images")
	for _, k := range []int{1, 5, 10, 20} {
		train, _ := split(c.Train, 0, k)
		q, err := teachHead(train, K, opt)
		if err != nil {
			return err
		}
		t1, t5 := score(&q, c.Val)
		cv := "-"
		if k >= 2 {
			var ex []teach.Example
			for _, it := range train {
				ex = append(ex, example(it))
			}
			r, err := teach.CrossValidate(ex, K, teach.DefaultFolds, opt)
			if err != nil {
				return err
			}
			cv = fmt.Sprintf("%.1f%%", 100*r.Accuracy())
		}
		fmt.Printf("  k=%2d: %d-fold held-out %s, val top-1 %.1f%% (%d of %d), top-5 %.1f%%\n", k, teach.DefaultFolds, cv, 100*float64(t1)/float64(len(c.Val)), t1, len(c.Val), 100*float64(t5)/float64(len(c.Val)))
	}
	return nil
}
