package protocol

// The messages between the page and the inference worker, and between the
// inference worker and its band workers (see the package doc). A message is
// a plain JavaScript object: its JSON part is one of the types below (each
// embeds Header) and its big arrays travel beside it as transferred typed
// arrays, under the Field* names. Both ends build the JSON part with
// encoding/json and JSON.parse, and read it back with JSON.stringify (of
// the message without its typed arrays) and encoding/json.

// Kind is a message's type: its "type" field.
type Kind string

// The page's requests to the inference worker. Each carries a fresh id
// (the first load, sent by web/app.js, carries none) and is answered by a
// message with the same id: its answer or an ErrorReply.
const (
	KindLoad     Kind = "load"     // LoadRequest; answered by Ready
	KindModel    Kind = "model"    // ModelRequest; answered by Ready
	KindClassify Kind = "classify" // ClassifyRequest; answered by ResultReply
	KindScramble Kind = "scramble" // ScrambleRequest; answered by ResultReply
	KindOcclude  Kind = "occlude"  // OccludeRequest; answered by ResultReply
	KindEvidence Kind = "evidence" // EvidenceRequest; answered by EvidenceReply, of this kind too
	KindBench    Kind = "bench"    // BenchRequest; answered by BenchReply, of this kind too
	KindFeatures Kind = "features" // FeaturesRequest; answered by FeaturesReply, of this kind too
	KindTeach    Kind = "teach"    // TeachRequest; answered by TeachReply, of this kind too
	KindPatches  Kind = "patches"  // PatchesRequest; answered by PatchesReply, of this kind too
	KindHang     Kind = "hang"     // HangRequest: a test hook (Options.TestHooks only)
	KindCrash    Kind = "crash"    // a Header alone: a test hook (Options.TestHooks only)
)

// The inference worker's messages to the page.
const (
	KindProgress Kind = "progress" // Progress
	KindLoading  Kind = "loading"  // Loading
	KindReady    Kind = "ready"    // Ready
	KindResult   Kind = "result"   // ResultReply
	KindEngine   Kind = "engine"   // EngineChange
	KindError    Kind = "error"    // ErrorReply
)

// Between the inference worker and its band workers.
const (
	KindLoadBytes Kind = "loadBytes" // a Header and FieldBytes; answered by a Ready without info
	KindRows      Kind = "rows"      // RowsRequest; answered by RowsReply, of this kind too
	KindPool      Kind = "pool"      // PoolRequest; answered by PoolReply, of this kind too
)

// WhatWorker is an ErrorReply's What when the worker itself failed, not a
// request: it could not start, or it died (Dead).
const WhatWorker Kind = "worker"

// FieldType is the name of every message's kind field (Header.Type), to
// read a message's kind without decoding it.
const FieldType = "type"

// The typed arrays that travel beside a message's JSON part (transferred),
// by field name.
const (
	// FieldBytes is a file's bytes: an ArrayBuffer in ClassifyRequest (an
	// encoded image) and ModelRequest (a model file), a Uint8Array in a
	// KindLoadBytes message (the model file, for a band worker).
	FieldBytes = "bytes"
	// A FeaturesRequest carries an encoded image (an ArrayBuffer), a
	// TeachReply the taught model file (a Uint8Array).
	//
	// FieldRGB is RowsRequest's model input: a Uint8Array, packed RGB.
	FieldRGB = "rgb"
	// FieldData is RowsReply's block of the int8 feature map: a
	// Uint8Array, HWC.
	FieldData = "data"
	// FieldEvidence is a ResultReply's evidence maps, an object of
	// Float32Array(h*w) by class index (every class when there are at most
	// 32, else the top-K), or an EvidenceReply's one Float32Array.
	FieldEvidence = "evidence"
	// FieldInput is a ResultReply's model input, or a LiveRequest's
	// frame: a Uint8ClampedArray of RGBA pixels (RGBA), an ImageData's
	// layout.
	FieldInput = "input"
	// FieldCrops is a CropsReply's patch pictures: a Uint8Array of RGBA
	// tiles, one after another.
	FieldCrops = "crops"
)

// BinaryFields are the Field* names of the typed arrays: a message without
// them is its JSON part.
func BinaryFields() []string {
	return []string{FieldBytes, FieldRGB, FieldData, FieldEvidence, FieldInput, FieldCrops}
}

// Header is what every message carries: its kind and the id of the
// request it is or answers (JSON null: none).
type Header struct {
	Type Kind `json:"type"`
	ID   *int `json:"id"`
}

// Head returns the header itself; every message type has it through
// Header, so a *Message can be stamped with its id by code that does not
// know its type.
func (h *Header) Head() *Header { return h }

// IDOr is h's id, or def when it has none.
func (h *Header) IDOr(def int) int {
	if h.ID == nil {
		return def
	}
	return *h.ID
}

// Message is any message of the protocol (a pointer to one of the types
// below).
type Message interface{ Head() *Header }

// LoadRequest asks the worker to fetch a model file of the site and load
// it (KindLoad). web/app.js sends the first, for the site's model, without
// an id; the page sends one with an id when the user picks another model,
// and when a restarted worker needs the model in use again.
type LoadRequest struct {
	Header
	URL  string `json:"url"`
	Size int    `json:"size"` // the file's byte size, for progress when the server compresses it; 0 unknown
}

// ModelRequest hands the worker the user's model file (KindModel), its
// bytes an ArrayBuffer in FieldBytes (transferred). A file that does not
// load is answered by an ErrorReply (What KindModel) naming what is wrong,
// and the model in use stays.
type ModelRequest struct {
	Header
	Name string `json:"name"` // the file's name
}

// ClassifyRequest classifies an encoded image (KindClassify), its bytes an
// ArrayBuffer in FieldBytes (transferred). Thumb > 0 (at most MaxThumb)
// asks for a thumbnail of the decoded image too, at most Thumb pixels on
// its longest side (ResultReply.Thumb): the page's batch keeps that, never
// the image's pixels.
type ClassifyRequest struct {
	Header
	TopK  int `json:"topK"`
	Thumb int `json:"thumb,omitempty"`
	// Patches, when positive, asks for the image's patch candidates of
	// every class (ResultReply.Patches), that many per list.
	Patches int `json:"patches,omitempty"`
}

// MaxThumb bounds ClassifyRequest.Thumb.
const MaxThumb = 256

// ScrambleRequest shuffles the tiles of analysis Of's model input (seeded)
// and classifies that (KindScramble).
type ScrambleRequest struct {
	Header
	Of   int   `json:"of"`
	Seed int64 `json:"seed"`
	TopK int   `json:"topK"`
}

// OccludeRequest paints model-input pixels Rect of analysis Of grey and
// classifies that (KindOcclude), recomputing only the block of cells whose
// receptive fields touch it (bit for bit a full pass); its answer carries
// an Occlusion.
type OccludeRequest struct {
	Header
	Of   int   `json:"of"`
	Rect []int `json:"rect"` // x0, y0, x1, y1: four numbers, checked by the worker
	TopK int   `json:"topK"`
}

// EvidenceRequest asks for class Class's evidence map of the earlier
// analysis whose id the header carries (KindEvidence).
type EvidenceRequest struct {
	Header
	Class int `json:"class"`
}

// BenchRequest runs the browser benchmark (KindBench, see Bench): the
// network Runs times on a random model input, then once more with every
// GEMM timed, then a patch-sized occlusion at its centre Runs times.
type BenchRequest struct {
	Header
	Runs int `json:"runs"`
}

// FeaturesRequest computes the pooled features of an encoded image
// (FieldBytes, an ArrayBuffer, transferred) and of its mirror image with the
// model in use, for teaching (KindFeatures): the worker keeps them as an
// example of class Class (an index into the TeachRequest's classes). Reset
// forgets the examples kept before (the first image of a folder sets it);
// loading a model forgets them too. The examples must arrive in the order
// 'bagnet teach' takes them: classes by id, images by path in each class.
//
// With Classes set, the request carries several images, Classes[i] the
// class of image i, and FieldBytes is an Array of their ArrayBuffers: the
// worker computes them at once, whole images on its band workers
// (KindPool) beside itself, and keeps their examples in that order.
type FeaturesRequest struct {
	Header
	Class   int   `json:"class"`
	Classes []int `json:"classes,omitempty"`
	Reset   bool  `json:"reset,omitempty"`
}

// FeaturesReply says the image's example is kept (KindFeatures): Examples
// is how many the worker now holds. For a request of several images,
// Errors[i] says why image i was not kept ("" when it was); the others
// are kept in order.
type FeaturesReply struct {
	Header
	Examples int      `json:"examples"`
	Errors   []string `json:"errors,omitempty"`
	// The worker's time on the request: decoding and resizing (PrepMs)
	// and the network's passes (PassMs) of the images computed by the
	// inference worker itself, and how many images its band workers
	// computed (Helped).
	PrepMs float64 `json:"prepMs"`
	PassMs float64 `json:"passMs"`
	Helped int     `json:"helped,omitempty"`
}

// PatchesRequest asks for the results of several encoded images
// (FieldBytes, an Array of ArrayBuffers) with the model in use, an int8
// one (KindPatches): for each, its TopK best classes and its patch
// candidates of every class (Patches a list, as ClassifyRequest.Patches),
// without its evidence maps or model input: what a run that keeps only an
// image's patch lists needs (what each taught class learned). The
// inference worker computes the images side by side, whole images on its
// band workers beside itself (a PatchesRequest of one image each).
type PatchesRequest struct {
	Header
	TopK    int `json:"topK"`
	Patches int `json:"patches"`
}

// PatchesReply is a PatchesRequest's results (KindPatches), Images[i]
// image i's.
type PatchesReply struct {
	Header
	Images []PatchesImage `json:"images"`
}

// PatchesImage is one image's result in a PatchesReply: Err says why
// there is none.
type PatchesImage struct {
	Err       string           `json:"error,omitempty"`
	Result    Result           `json:"result"`
	Transform Transform        `json:"transform"`
	Timings   Timings          `json:"timings"`
	Patches   *PatchCandidates `json:"patches,omitempty"`
}

// PoolRequest asks a band worker for the teaching example of an encoded
// image (FieldBytes, an ArrayBuffer) with its copy of the model
// (KindPool): the pooled features of the image and of its mirror image,
// as a FeaturesRequest computes them.
type PoolRequest struct {
	Header
}

// PoolReply is a PoolRequest's example (KindPool): the pooled channel sums
// of the final map of the image and of its mirror image, over Cells cells.
type PoolReply struct {
	Header
	Image  []int64 `json:"image"`
	Flip   []int64 `json:"flip"`
	Cells  int     `json:"cells"`
	PrepMs float64 `json:"prepMs"`
	PassMs float64 `json:"passMs"`
}

// TeachRequest teaches the model in use the classes of the examples kept
// (KindTeach): Folds-fold held-out accuracy (0: bagnet teach's default,
// -1: none; it is skipped too when every class has one example), then a new head on
// all of them, as 'bagnet teach -name Name' with its default options does.
// The model in use stays; the page loads the taught file (a ModelRequest)
// when it wants it.
type TeachRequest struct {
	Header
	Classes []Class `json:"classes"`
	Name    string  `json:"name"`
	Folds   int     `json:"folds"`
}

// TeachScore is one class's held-out score: of its Images, Correct were
// classified as it by the head trained without them.
type TeachScore struct {
	Images  int `json:"images"`
	Correct int `json:"correct"`
}

// TeachReply is the taught model file (FieldBytes, a Uint8Array) and its
// held-out accuracy (KindTeach): Folds is 0 when it was not computed.
type TeachReply struct {
	Header
	Folds    int          `json:"folds"`
	Images   int          `json:"images"`
	Correct  int          `json:"correct"`
	PerClass []TeachScore `json:"perClass"`
	Ms       float64      `json:"ms"` // the time the held-out accuracy and the training took
}

// HangRequest makes the worker busy-loop for Ms milliseconds, or for ever
// when Ms is 0 (KindHang, a test hook).
type HangRequest struct {
	Header
	Ms int `json:"ms,omitempty"`
}

// RowsRequest asks a band worker for the block of rows [R0, R1) and
// columns [C0, C1) of the int8 feature map of the model input in FieldRGB
// (KindRows): a band of a whole pass, or of an occlusion's block.
type RowsRequest struct {
	Header
	R0 int `json:"r0"`
	R1 int `json:"r1"`
	C0 int `json:"c0"`
	C1 int `json:"c1"`
}

// RowsReply is a band worker's block (KindRows), in FieldData.
type RowsReply struct {
	Header
}

// Progress of a download (KindProgress), in bytes.
type Progress struct {
	Header
	What   string `json:"what"` // ProgressWorker or ProgressWeights
	Loaded int64  `json:"loaded"`
	Total  int64  `json:"total"` // 0 when unknown
}

// What a Progress message is about.
const (
	ProgressWorker  = "worker"  // the inference worker's code
	ProgressWeights = "weights" // the model file
)

// Loading says a model file was parsed (KindLoading; its id is the one its
// Ready will carry): the band workers' load and the warm-up pass follow.
// MACs (per pass) scales the page's deadline for them (LoadDeadline).
type Loading struct {
	Header
	MACs int64 `json:"macs"`
}

// Ready says a model is loaded (KindReady): the id is null for the site's
// first model, the request's for a load or model request; earlier analyses
// are forgotten. A band worker's Ready has no Info.
type Ready struct {
	Header
	Info *Info `json:"info,omitempty"`
}

// ResultReply answers a classify, scramble or occlude request
// (KindResult): Meta is its JSON part; the evidence maps (FieldEvidence)
// and the model input (FieldInput) travel beside it.
type ResultReply struct {
	Header
	Meta
	// Thumb is the thumbnail a ClassifyRequest asked for: a data: URL of
	// a JPEG image.
	Thumb   string           `json:"thumb,omitempty"`
	Patches *PatchCandidates `json:"patches,omitempty"` // when the ClassifyRequest asked
}

// PatchCandidates are one image's candidates for every class's lists of
// most evidential patches (package patchset, 'bagnet patches'): with k =
// min(K, cells of the map), class c's k cells with the most evidence for
// it, best first (ties: the lower cell), are entries [2kc, 2kc+k) and its k
// most negative [2kc+k, 2k(c+1)). Cells index the map row-major.
type PatchCandidates struct {
	K        int       `json:"k"`
	Cells    []int     `json:"cells"`
	Evidence []float32 `json:"evidence"`
}

// KindCrops crops patches out of an image (CropsRequest); it is answered by
// a CropsReply, of this kind too.
const KindCrops Kind = "crops"

// CropsRequest asks for the pictures of patches of an encoded image (its
// bytes an ArrayBuffer in FieldBytes, transferred): each box (x0, y0, x1,
// y1 in the image's pixels, a patch's receptive field) resampled to Tile x
// Tile pixels as 'bagnet patches' draws it (heatmap.Crop).
type CropsRequest struct {
	Header
	Boxes [][4]float64 `json:"boxes"`
	Tile  int          `json:"tile"`
}

// KindPNG encodes a picture as PNG (PNGRequest), for the page, which does
// not link an encoder; it is answered by a PNGReply, of this kind too.
const KindPNG Kind = "png"

// PNGRequest asks for the PNG file of W x H RGBA pixels (FieldInput, a
// Uint8Array or Uint8ClampedArray, transferred), as Go's image/png encodes
// an *image.RGBA: the bytes the command line writes for the same pixels.
type PNGRequest struct {
	Header
	W int `json:"w"`
	H int `json:"h"`
}

// PNGReply is the PNG file (FieldBytes, a Uint8Array) (KindPNG).
type PNGReply struct {
	Header
}

// CropsReply is a CropsRequest's tiles (KindCrops), in FieldCrops:
// len(Boxes) RGBA tiles of Tile x Tile pixels, in the boxes' order.
type CropsReply struct {
	Header
	Tile  int `json:"tile"`
	Count int `json:"count"`
}

// EvidenceReply is class Class's evidence map (FieldEvidence) of the
// analysis the id names, with its bias: mean(evidence) + bias = logit
// (KindEvidence).
type EvidenceReply struct {
	Header
	Class int     `json:"class"`
	Bias  float32 `json:"bias"`
}

// EngineChange says what runs the network changed (KindEngine: a band
// worker failed and was dropped); Kernel is the new Info.Kernel.
type EngineChange struct {
	Header
	Kernel string `json:"kernel"`
}

// BenchReply answers a BenchRequest (KindBench).
type BenchReply struct {
	Header
	Bench *Bench `json:"bench"`
}

// ErrorReply says a request failed (KindError), or, with a null id and
// What WhatWorker, the worker itself. The worker keeps serving unless Dead:
// Go exited or trapped, and the page restarts the worker.
type ErrorReply struct {
	Header
	What    Kind   `json:"what"` // the failed request's kind, KindResult (its answer could not be made or read), or WhatWorker
	Message string `json:"message"`
	Dead    bool   `json:"dead,omitempty"`
}

// Options are the worker's options, JSON in its name (new Worker('worker.js',
// {name})), set by web/app.js; a band worker gets its parent's with Role
// RoleBand and Workers 1.
type Options struct {
	Wasm     string `json:"wasm,omitempty"`     // worker.wasm's URL (web/worker.js)
	Bytes    int    `json:"bytes,omitempty"`    // its byte size, for progress (web/worker.js)
	SIMD     *bool  `json:"simd,omitempty"`     // false: the pure-Go kernels (web/worker.js)
	SIMDWasm string `json:"simdWasm,omitempty"` // the SIMD kernel module's URL (web/worker.js)
	Role     string `json:"role,omitempty"`     // RoleBand for a band worker started by another worker
	Workers  int    `json:"workers"`            // how many workers to use, this one included
	// FailBands (the page's ?failbands=N, for tests) makes a band worker
	// fail every request after its first N, as a worker that died would.
	FailBands int `json:"failBands,omitempty"`
	// TestHooks (the page's ?testhooks=1, for tests only) lets the worker
	// obey KindHang and KindCrash; HangBands (?hangbands=N, with TestHooks)
	// makes a band worker hang on every request after its first N.
	// Without TestHooks these do nothing.
	TestHooks bool `json:"testHooks,omitempty"`
	HangBands int  `json:"hangBands,omitempty"`
}

// RoleBand is Options.Role of a band worker.
const RoleBand = "band"

// KindLive classifies one frame of the live camera (LiveRequest); it is
// answered by a LiveReply, of this kind too.
const KindLive Kind = "live"

// LiveRequest classifies a live camera frame (KindLive): Size x Size raw
// RGBA pixels (an ImageData's layout, alpha ignored) in FieldInput, a
// Uint8ClampedArray (transferred), already at the model's input size.
// Nothing is decoded or resampled: the page resized the frame on a canvas,
// so the model input is the browser's resize, not preprocess's exact one.
// The analysis is not kept (no later evidence, scramble or occlusion of it).
type LiveRequest struct {
	Header
	Size int `json:"size"` // the frame's side: must be the model's input size
	TopK int `json:"topK"`
}

// LiveReply answers a LiveRequest (KindLive): the top classes, the map's
// size and, in FieldEvidence, the evidence map of Class (the top class), a
// Float32Array of Map.H*Map.W, with its bias.
type LiveReply struct {
	Header
	Top     []Prediction `json:"top"`
	Class   int          `json:"class"`
	Bias    float32      `json:"bias"`
	Map     MapSize      `json:"map"`
	InferMs float64      `json:"inferMs"`
	// Times, when set, say when the frame passed each stage in the worker
	// (the page's per-stage profile of live mode).
	Times *LiveTimes `json:"times,omitempty"`
}

// LiveTimes are when a live frame passed each stage in the worker, in
// milliseconds since the Unix epoch as performance.timeOrigin +
// performance.now() gives them, a clock the page and its workers share.
type LiveTimes struct {
	Received float64 `json:"received"` // the worker took the request
	Input    float64 `json:"input"`    // the model input was made from the pixels
	Inferred float64 `json:"inferred"` // the network's pass ended (band workers included)
	Evidence float64 `json:"evidence"` // the top class's evidence map was made
	Posted   float64 `json:"posted"`   // the answer was about to be encoded and posted
}
