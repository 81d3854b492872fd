// Command bagnet converts, runs and evaluates BagNet models natively, with
// the same engine the browser app uses.
//
// Usage:
//
//	bagnet convert [-arch auto|bagnet9|bagnet17|bagnet33] [-classes FILE|imagenet]
//	               [-preprocess squash|crop] [-size N] [-calib DIR] [-calib-n N]
//	               [-workers N] [-float] [-name NAME] -o OUT.safetensors IN.pth
//	bagnet classify [-weights FILE] [-top K] [-json] [-workers N] IMAGE...
//	bagnet heatmap  [-weights FILE] [-class NAME|INDEX|WNID] [-alpha A] [-workers N] -o OUT.png IMAGE
//	bagnet eval     [-weights FILE] [-json] [-workers N] [-limit N] [-shard I/N] DIR
//	bagnet patches  [-weights FILE] -class NAME|INDEX|WNID [-n N] [-per-image K]
//	                [-tile PX] [-workers N] [-limit N] [-o OUT.png] [-json] [-shard I/N] DIR
//	bagnet merge    [-json] [-o OUT.png] PART...
//	bagnet version  (or bagnet -version)
//	bagnet help [COMMAND]
//
// Flags may come before or after the arguments. Without -weights, classify,
// heatmap, eval and patches use the default model embedded in the binary
// (weights/shipped/bagnet33_imagenette_int8.safetensors, package
// weights/shipped), so a copied or `go install`ed binary works anywhere,
// offline. version prints the module version (a tag or pseudo-version for
// `go install ...@version`, "(devel)" in a checkout) and the embedded
// model's name, size and SHA-256.
//
// convert reads a PyTorch checkpoint (zip or legacy format, a plain state
// dict or one wrapped in {"state_dict": ...}, "module." prefixes allowed),
// detects the architecture, width and class count from its shapes and writes
// a model file. By default the file is int8: the float network runs on
// -calib-n images from -calib (an evenly spaced subset of the sorted list of
// image files found recursively) to calibrate the activation scales, and the
// int8 and float networks are then compared on a few of those images (the
// result is printed and stored in the file's info metadata). -float writes
// the float32 state dict instead. -classes takes a list of
// "index<TAB>wnid<TAB>name", "wnid<TAB>name" or "wnid name" lines, or
// "imagenet": the 1000 ImageNet classes built into the binary (package
// weights/imagenet), which a 1000-class checkpoint also gets without
// -classes; any other checkpoint gets the names "class 0", "class 1", ....
// The calibration images run on -workers goroutines (the file is the same
// for any number).
// -preprocess and -size record how images are mapped onto the model input.
// For example, the authors' ImageNet BagNet-33:
//
//	bagnet convert -classes imagenet -preprocess crop -size 224 \
//	    -calib ../shared/data/imagenette/train -calib-n 128 \
//	    -o build/imagenet/bagnet33_imagenet_int8.safetensors bagnet32-2ddd53ed.pth.tar
//
// (make imagenet downloads and converts all three.) A checkpoint named by
// torch.hub's convention, NAME-HASH.EXT, whose SHA-256 does not start with
// HASH converts with a warning.
//
// classify prints the top -top classes of each image with probability and
// logit; -json prints one object per image per line, the shape of
// protocol.Result with "image" set:
//
//	{"image":"x.jpg","model":"...","top":[{"index":0,"id":"n01440764","name":"tench","logit":4.2,"prob":0.83}],"logits":[...],"map":{"h":12,"w":12}}
//
// heatmap writes a PNG of the original image (scaled down to at most
// -max-side pixels on its longer side) with the patch evidence for -class
// (default: the top-1 class) painted over it in a diverging blue-white-red
// colour map (ColorBrewer RdBu, readable with colour blindness) symmetric
// around zero, and a legend strip of heatmap.LegendHeight pixels below it
// with the colour scale and the evidence range. The map is interpolated
// bilinearly between the patch centres over the area the patches cover;
// parts of the image the model did not see are dimmed (see package heatmap).
//
// classify and heatmap split each image's evidence map into bands of rows
// computed on -workers goroutines (default: the number of CPUs), as the
// page does on its band workers; the result is bit-identical to one.
//
// eval classifies every image under DIR/WNID/ (one folder per class, named
// by the WordNet ids of the model's classes; -limit caps the images per
// class; a folder the model has no class for is skipped with a warning and
// listed) with -workers goroutines sharing one engine, and prints top-1 and
// top-5 accuracy, per-class accuracy and the confusion matrix (rows: true
// class, columns: predicted class, plus "other" for predictions of a class
// DIR lacks). -json prints the same as one object.
//
// patches reproduces the paper's figure of the most evidential patches: it
// runs every image under DIR once (-workers in parallel), and for the class
// keeps, in bounded memory (a heap of the n best per list), the n patches
// with the most evidence in images of that class ("for"), the n with the
// most evidence for it in images of other classes ("distractors": what
// would make the model wrongly say this class) and the n most negative in
// images of the class ("against"); -per-image caps the patches one image
// gives to a list (neighbouring patches overlap and look alike). DIR holds
// class folders named by WordNet id, as for eval; a folder of plain images
// gives "for" and "against" over all of them and no distractors. The PNG
// shows each patch's receptive field cropped from the original image
// (mapped back through the preprocessing; grey where it reaches past the
// edge), framed in its evidence colour and labelled with its evidence,
// cell and file. -json prints
//
//	{"model":..,"class":{"index","id","name"},"images":N,"errors":N,"labelled":true,
//	 "for":[{"image","label","cell":[i,j],"box":[x0,y0,x1,y1],"evidence"}],"distractors":[..],"against":[..]}
//
// with boxes in the source image's pixels; the PNG is then written only
// when -o is given (default patches.png otherwise).
//
// eval -shard I/N and patches -shard I/N process only the I-th (from 0) of
// N contiguous slices of the run's sorted image list and print a partial
// result, one line of JSON; merge combines the parts of one run (any order,
// one or more per file) into exactly what the unsharded run prints with the
// same -json (and, for patches, the same PNG with -o). -shard auto/N takes
// I from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or
// SLURM_ARRAY_TASK_ID less SLURM_ARRAY_TASK_MIN (a Slurm array); see
// docs/sharding.md.
//
// convert, eval and patches draw a progress bar on stderr when it is a terminal (a
// plain line every 15 s otherwise).
//
// Exit status: 0 on success, 2 for a usage error, 1 for any other failure.
// Every failure is one line on stderr, "bagnet: FILE: PROBLEM"; classify,
// eval and patches report each unreadable image on its own line, carry on with the
// others and exit with status 1 at the end.
package main
