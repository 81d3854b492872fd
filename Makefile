# BagNet in the browser. `make serve` builds everything and serves the app;
# `make test` runs every test (it installs Chromium with apt-get when missing).
SHELL := /bin/bash
comma := ,
GO ?= go
# No -mod=mod: builds use go.mod and go.sum as committed (Go's default,
# -mod=readonly), so no build rewrites them; `go mod tidy` is a deliberate step.
PYTHON ?= /usr/bin/python3
SHARED ?= ../shared
MODEL ?= weights/shipped/bagnet33_imagenette_int8.safetensors
SAMPLES ?= $(SHARED)/data/samples
ADDR ?= 127.0.0.1:8080
CHROMIUM ?= /usr/bin/chromium

.PHONY: fuzz bench-browser simd model prior all build site serve test unit vet wasm browser chromium bench bench-wasm train imagenet verify-torch fixtures clean generate FORCE

all: build site

# The WebAssembly SIMD kernel module, wasm/simd/kernel.wasm, from
# wasm/simd/c/kernel.c (Debian's clang and lld). The built bytes are
# committed, so nothing else needs clang; a test rebuilds and compares them.
simd:
	$(GO) run ./wasm/simd/build -o wasm/simd/kernel.wasm

# Generated vugu code (ui/*_gen.go) is not committed.
generate:
	$(GO) generate ./ui/...

build/bagnet: generate
	$(GO) build -trimpath -o build/bagnet ./cmd/bagnet

build: build/bagnet

# The static site: dist/ (works from any static host under any sub-path).
# MODELS: more model files for the page's model picker (space-separated),
# e.g. make site MODELS="build/imagenet/bagnet33_imagenet_int8.safetensors".
MODELS ?=
site: dist/sw.js

# dist/sw.js stands for the site: mksite replaces dist/ as a whole, so it is
# rebuilt only when one of its inputs is newer: the Go sources and ui
# templates (directories too, for removed files; not the root, whose time changes
# when dist/ is replaced; absolute paths, so that ./model or ./wasm is not
# taken for the phony target of that name), web/, the embedded
# kernel.wasm, the models, the samples, or the arguments and Go version
# (build/site.args, rewritten only when they change).
SITE_INPUTS = go.mod go.sum build/site.args $(MODEL) $(MODELS) $(wildcard $(SAMPLES)) \
	$(shell find $(SAMPLES) -type f 2>/dev/null) \
	$(shell find $(CURDIR) -mindepth 1 \( -name '.*' -o -name dist -o -name build -o -name testout -o -name testdata -o -name __pycache__ \) -prune \
		-o \( -type d -o -name '*.go' -o -name '*.vugu' -o -path '$(CURDIR)/web/*' -o -name '*.wasm' \) \
		! -name '*_test.go' ! -name '*_gen.go' ! -name '*_vgen.go' -print)
dist/sw.js: $(SITE_INPUTS) | generate
	$(GO) run ./cmd/mksite -model $(MODEL) -extra-models "$(subst $() ,$(comma),$(strip $(MODELS)))" -samples $(SAMPLES) -o dist

SITE_ARGS = $(MODEL) | $(MODELS) | $(SAMPLES) | $(shell $(GO) env GOVERSION)
build/site.args: FORCE
	@mkdir -p build
	@echo '$(SITE_ARGS)' | cmp -s - $@ || echo '$(SITE_ARGS)' > $@
FORCE:

serve: site
	$(GO) run ./server -dir dist -addr $(ADDR)

# Installs Debian's Chromium (for the browser tests) when $(CHROMIUM) is missing;
# uses sudo unless run as root.
chromium:
	@test -x $(CHROMIUM) || { \
		echo "chromium: $(CHROMIUM) is missing: installing Debian's chromium"; \
		sudo=$$(test "$$(id -u)" = 0 || echo sudo); \
		$$sudo apt-get update -q && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }
	@test -x $(CHROMIUM) || { echo "chromium: still no $(CHROMIUM) after apt-get install chromium" >&2; exit 1; }

vet: generate
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./wasm/... ./ui/...

wasm: generate
	GOOS=js GOARCH=wasm $(GO) build -o /dev/null ./wasm/...

# The browser tests (browsertest/) drive $(CHROMIUM); they need ../shared.
# They build the site and open dozens of tabs (several at once, -parallel
# defaults to the number of CPUs): minutes on a small loaded machine, so the
# timeout (per package) leaves room over go test's default 10 minutes.
TEST_TIMEOUT ?= 30m
test: chromium vet wasm
	CHROMIUM=$(CHROMIUM) $(GO) test -timeout $(TEST_TIMEOUT) ./...

# Native benchmarks, one run: one image through the int8 full-size
# BagNet-33 (224 px, 1000 classes, random weights) and the shipped model, on
# the pure-Go kernel and the native one (1 core, all cores), each
# BENCH_COUNT times; onnxruntime-node on the same BagNet-33's ONNX export
# (int8 and fp32, 1 thread) when npm and torch are here; then the medians in
# ms and their ratios (model/kernel/internal/bench). `make bench BENCH=re`
# runs other benchmarks of ./model/... instead (GMAC/s in the output).
BENCH ?=
BENCH_COUNT ?= 5
ORT_NODE_VERSION ?= 1.30.0
KBENCH = model/kernel/internal/bench
bench:
ifneq ($(BENCH),)
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime 3x ./model/...
else
	@mkdir -p build
	$(MAKE) -s build/ortnode/ready
	@test -s build/ortnode/bagnet33_int8.onnx || echo "bench: onnxruntime-node skipped: it needs npm and $(PYTHON) with torch and onnx (apt-get install python3-torch python3-onnx)"
	@# Rounds of every case in turn, so the machine's drifting load hits them alike.
	@rm -f build/bench.txt; for i in $$(seq $(BENCH_COUNT)); do \
		echo "round $$i of $(BENCH_COUNT)"; \
		$(GO) test -run '^$$' -bench '^BenchmarkInt8$$' -benchtime 1x ./model/ > build/bench.round || { cat build/bench.round; exit 1; }; \
		grep '^Benchmark' build/bench.round | tee -a build/bench.txt; \
		if [ -s build/ortnode/bagnet33_int8.onnx ]; then \
			node $(KBENCH)/ort.js build/ortnode/node_modules build/ortnode/bagnet33_int8.onnx full224-int8 224 1 && \
			node $(KBENCH)/ort.js build/ortnode/node_modules build/ortnode/bagnet33.onnx full224-fp32 224 1 || exit 1; \
		fi | tee -a build/bench.txt; \
	done
	@echo; echo "make bench on $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $$(nproc) cores:"; echo
	@$(GO) run ./$(KBENCH) < build/bench.txt
endif

# onnxruntime-node and the full-size BagNet-33 as ONNX (fp32, and int8 by
# dynamic quantisation) for make bench; nothing when npm or torch is missing.
build/ortnode/ready:
	mkdir -p build/ortnode
	-if command -v npm >/dev/null && $(PYTHON) -c "import torch, onnx" 2>/dev/null; then \
		cd build/ortnode && npm install -q --no-audit --no-fund --ignore-scripts onnxruntime-node@$(ORT_NODE_VERSION) && cd ../.. && \
		$(PYTHON) weights/train/export_onnx.py build/ortnode/bagnet33.onnx && \
		$(PYTHON) $(KBENCH)/quantize_onnx.py build/ortnode/bagnet33.onnx build/ortnode/bagnet33_int8.onnx; fi
	touch $@

# The few-shot table of docs/teach.md (features cached in /tmp; a first
# run computes them: minutes).
.PHONY: fewshot
fewshot:
	$(GO) run ./teach/internal/fewshot

bench-wasm:
	GOOS=js GOARCH=wasm $(GO) test -exec "$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" -run '^$$' -bench '$(BENCH)' -benchtime 3x ./model/
	GOOS=js GOARCH=wasm $(GO) test -exec "$(CURDIR)/wasm/simd/testdata/go_js_wasm_exec" -run '^$$' -bench '$(BENCH)' -benchtime 3x ./wasm/simd/

# In headless Chromium: the full-size BagNet-33 (random weights) and the
# shipped model, WebAssembly SIMD and the pure-Go fallback, 1 and N workers;
# and, as the baseline in the same run, onnxruntime-web (WASM SIMD, one
# thread) on the same network (fetched with npm and exported from PyTorch
# into build/ort; skipped when npm or torch is missing).
ORT_VERSION ?= 1.30.0
bench-browser: site chromium build/ort/ready
	$(GO) run ./cmd/benchbrowser -site dist -chromium $(CHROMIUM) $$(test -s build/ort/bagnet33.onnx && echo -ort build/ort)

build/ort/ready:
	mkdir -p build/ort
	-cd build/ort && npm pack -q onnxruntime-web@$(ORT_VERSION) && tar xzf onnxruntime-web-$(ORT_VERSION).tgz \
		package/dist/ort.wasm.min.js package/dist/ort-wasm-simd-threaded.wasm package/dist/ort-wasm-simd-threaded.mjs && \
		mv package/dist/* . && rm -rf package onnxruntime-web-$(ORT_VERSION).tgz
	-$(PYTHON) weights/train/export_onnx.py build/ort/bagnet33.onnx
	touch $@

# The shipped model: train the BagNet-33 on Imagenette on the CPU (about 8
# hours on 2 cores, depending on the machine; resumable: rerun to continue),
# then convert it. The cycles are the lines of weights/train/schedule.tsv:
# cycle 1 into build/train, cycle c into build/trainc, each from the one
# before (all share cycle 1's decoded-image cache).
SCHEDULE ?= weights/train/schedule.tsv
train:
	@set -e; c=0; prev=; grep -v '^#' $(SCHEDULE) | while read -r epochs lr seed lowe lows recal; do \
		c=$$((c+1)); out=build/train$$( [ $$c = 1 ] || echo $$c ); \
		args="--epochs $$epochs --lr $$lr --seed $$seed"; \
		[ $$lowe = 0 ] || args="$$args --low-size $$lows --low-epochs $$lowe"; \
		[ $$recal = 1 ] || args="$$args --no-bn-recal"; \
		[ -z "$$prev" ] || args="$$args --init $$prev/final.pth --cache build/train/cache"; \
		echo "train: cycle $$c: $$args"; \
		$(PYTHON) weights/train/train.py --data $(SHARED)/data/imagenette --out $$out $$args; \
		prev=$$out; \
	done
	$(MAKE) model

CALIB_N ?= 160
CKPT ?= build/train$(shell grep -vc '^\#' $(SCHEDULE))/final.pth
MODEL_NAME ?= BagNet-33 Imagenette (width 1/4, 128 px)
model:
	@test -s $(CKPT) || { echo "model: no $(CKPT): run make train" >&2; exit 1; }
	for d in $$(ls $(SHARED)/data/imagenette/train); do \
		grep -P "\t$$d\t" $(SHARED)/data/imagenet_classes.tsv | cut -f2,3; done > build/imagenette_classes.tsv
	$(GO) run ./cmd/bagnet convert -preprocess squash -size 128 -classes build/imagenette_classes.tsv \
		-calib $(SHARED)/data/imagenette/train -calib-n $(CALIB_N) -name "$(MODEL_NAME)" \
		-o weights/shipped/bagnet33_imagenette_int8.safetensors $(CKPT)
	$(MAKE) prior
	$(GO) run ./cmd/bagnet convert -float -preprocess squash -size 128 -classes build/imagenette_classes.tsv \
		-name "$(MODEL_NAME), float32" -o weights/bagnet33_imagenette_f32.safetensors $(CKPT)

# The shipped model's feature prior (docs/teach.md): the within-class
# correlation of its pooled features over its training images, added to the
# model file in place (a few minutes).
prior:
	$(GO) run ./cmd/bagnet prior -weights weights/shipped/bagnet33_imagenette_int8.safetensors \
		-o weights/shipped/bagnet33_imagenette_int8.safetensors $(SHARED)/data/imagenette/train

fixtures:
	$(PYTHON) weights/train/make_fixtures.py

# Fuzz the model loader (FUZZ=FuzzParse ./weights/safetensors for the
# container alone). Minimisation is capped: minimising an interesting 25 kB
# model file input by input would stall the run for a minute at a time.
FUZZ ?= FuzzLoad
FUZZPKG ?= ./weights
FUZZTIME ?= 10m
fuzz:
	$(GO) test -run '^$$' -fuzz '^$(FUZZ)$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 100x $(FUZZPKG)

# The authors' ImageNet BagNet-9/17/33 (Brendel & Bethge 2019), downloaded once into
# build/imagenet/ (needs network access) and converted to int8 model files there.
# cmd/fetch resumes an interrupted download and checks each file's SHA-256
# against the 8 hex digits in its name (torch.hub's convention) before using it.
IMAGENET_URL ?= https://bitbucket.org/wielandbrendel/bag-of-feature-pretrained-models/raw/249e8fa82c0913623a807d9d35eeab9da7dcc2a8
IMAGENET_FILES := bagnet8-34f4ccd2.pth.tar bagnet16-105524de.pth.tar bagnet32-2ddd53ed.pth.tar
imagenet:
	@$(GO) run ./cmd/fetch -dir build/imagenet $(addprefix $(IMAGENET_URL)/,$(IMAGENET_FILES)) || { \
		echo "imagenet: cannot download (offline?): copy the files into build/imagenet/ by hand and rerun" >&2; exit 1; }
	@set -e; for p in 8-34f4ccd2:9 16-105524de:17 32-2ddd53ed:33; do \
		$(GO) run ./cmd/bagnet convert -arch bagnet$${p#*:} -classes imagenet -preprocess crop -size 224 \
			-calib $(SHARED)/data/imagenette/train -calib-n 128 -name "BagNet-$${p#*:} ImageNet (Brendel & Bethge)" \
			-o build/imagenet/bagnet$${p#*:}_imagenet_int8.safetensors build/imagenet/bagnet$${p%:*}.pth.tar; \
	done

# Full-size BagNet-33 (1000 classes) against PyTorch; skips without torch.
verify-torch:
	@if $(PYTHON) -c "import torch" 2>/dev/null; then \
		$(PYTHON) weights/train/verify_full.py build/verify && \
		BAGNET_VERIFY_DIR=$(CURDIR)/build/verify $(GO) test -count=1 -v -run TestVerifyTorch ./weights/pth/; \
	else echo "verify-torch: skipped (PyTorch is not installed: apt-get install python3-torch)"; fi

clean:
	rm -rf build dist testout
