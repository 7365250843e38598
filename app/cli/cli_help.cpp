// SPDX-License-Identifier: GPL-3.0-or-later
// The `--help` texts of `qnn` and its commands (declared in cli_args.h).
#include "app/cli/cli_args.h"
#include "app/cli/cli_launch.h"

namespace qnn::cli {

std::string main_usage() {
  return R"USAGE(Usage: qnn COMMAND PROJECT [OPTIONS]

QNN Studio on the command line: check, train and evaluate the quantized network
described by a project file (*.qnn.json), without the GUI.

Commands:
  train PROJECT      train the network on the project's dataset and report the
                     test accuracy (last line: test_accuracy=<fraction>)
  launch --nproc N PROJECT  data-parallel training: N local ranks of
                     `qnn train PROJECT --dist` (same options); `launch --nproc N
                     sweep PROJECT ...` spreads a sweep's points over N ranks
  eval PROJECT       evaluate a saved checkpoint on the test set
  validate PROJECT   check the graph; print diagnostics and each layer's output shape
                     and QuantTensor format
  summary PROJECT    per-layer parameters, MACs, bit widths and the model size at the
                     chosen bit widths vs float32
  export PROJECT     write a trained checkpoint as ONNX QCDQ, QONNX, a packed integer
                     model, a checkpoint or Brevitas Python + state dict; --verify
                     compares it with the app
  import MODEL.onnx  turn a QONNX, QCDQ or float ONNX model into a project plus
                     checkpoint (--out PROJECT); lists what it cannot map
  inspect PROJECT    what quantization does to a checkpoint: weight histograms, scales,
                     activation ranges and per-layer SQNR as CSV + PNG; prints the
                     worst layer (last line: worst_layer=<id> (<sqnr> dB))
  calibrate PROJECT  post-training calibration of trained weights (activation scales
                     from training images, optional bias correction / per-channel
                     weights), saved as a checkpoint
  analyze PROJECT    the quantization analyzer: accuracy with only / all but each
                     layer quantized; which layers to keep at higher precision
  sweep PROJECT      per-layer sensitivity sweep over bit widths (CSV, JSON, heat
                     map, curves, Pareto front); --save keeps it in the project
  suggest PROJECT    the best mixed-precision configuration of a sweep within a size,
                     BitOps or accuracy budget, written as a new project

Options:
  -h, --help         show this help; `qnn COMMAND --help` shows a command's options
  --version          print the version

Exit status: 0 success; 1 invalid project, invalid setting, bad data or failed run;
2 unreadable file (project, checkpoint) or bad command line; 3 a --dist rank whose
run ended because another rank was lost; 130 stopped with Ctrl-C (train,
calibrate, analyze, sweep, suggest --verify).
)USAGE";
}

std::string command_usage(const std::string& command) {
  if (command == "launch" || command == "launch sweep") return launch_usage();
  if (command == "train")
    return R"USAGE(Usage: qnn train PROJECT [OPTIONS]

Trains the network of PROJECT on its dataset with the project's training settings
(optimizer, learning rate, batch size, epochs, seed, threads) unless overridden
below, evaluating on the test set after every epoch. Prints one line per epoch,
e.g. "epoch 1/5  train_loss=0.6123 train_acc=0.7712  test_loss=0.4891 test_acc=0.8234  12.3s",
and last "test_accuracy=<fraction>". A progress bar goes to stderr when run in a
terminal. Ctrl-C stops after the current batch and still reports the test accuracy.

With --checkpoint OUT the run is autosaved to a training checkpoint (weights,
optimizer state, position and history), by default OUT without ".pt" plus
".resume.pt", every 5 minutes and after every epoch; a finished run removes it
once OUT is written. After a crash, a kill or Ctrl-C, `qnn train PROJECT --resume
FILE --checkpoint OUT` (with the same other options) continues at the next batch with the same numbers as an
uninterrupted run (on 1 thread): "resuming from FILE: epoch 3 of 10, batch 120 of
938, step 1996", then only the new epochs' lines. The project's network, training
settings (optimizer, lr, momentum, weight decay, batch size, seed) and data
(dataset, --train-limit, --max-batches) must match the run's; --epochs may grow.

Data-parallel training (--dist; `qnn launch --nproc N` starts N local ranks): every
rank runs `qnn train PROJECT --dist` with the same options and torchrun's variables
MASTER_ADDR, MASTER_PORT (rank 0 listens there), WORLD_SIZE and RANK; the ranks meet
through a c10d TCPStore and train over Gloo (TCP). --batch-size is the batch of one
rank: the global batch is batch size x world size (2 ranks x 32 see the same 64
samples per step as 1 rank x 64; an epoch holds full global batches only). Weights
start from rank 0's; gradients are averaged; activation-quantizer statistics are
the global batch's percentile in every statistics-phase call (exact: the same value
as one process on the global batch), BatchNorm running statistics are averaged after
every step, so every rank holds the same weights and scales. Rank 0 alone prints and
writes the checkpoint and autosave; every rank evaluates the whole test set. A rank
that cannot join, or a peer that dies or does not answer, ends the run within
--dist-timeout seconds ("qnn train: error: rank 1 of 2 did not join within
--dist-timeout (60 s) at HOST:PORT ..."), exit status 3 on the ranks that lost it; a
project file that differs from rank 0's is refused at start-up on every rank.

Options:
  --epochs N         number of epochs (N >= 1)
  --threads N        LibTorch threads; 0 uses all cores
  --seed S           random seed for the initial weights and the shuffling
  --batch-size N     mini-batch size
  --lr X             learning rate
  --checkpoint OUT   save the trained model (weights and quantizer state) to OUT
  --weights FILE     start from FILE's weights instead of a random init (warm start):
                     a PyTorch/Brevitas state dict (torch.save(model.state_dict()))
                     or a QNN Studio checkpoint, matched by layer id = module name
                     (README "Loading PyTorch and Brevitas weights")
  --train-limit N    use only the first N training samples
  --test-limit N     use only the first N test samples
  --max-batches N    stop every epoch after N batches
  --resume FILE      continue the interrupted run autosaved in FILE (a training
                     checkpoint; a finished model's checkpoint is refused)
  --autosave FILE    autosave to FILE (default with --checkpoint OUT: OUT without
                     its .pt plus .resume.pt, e.g. lp.pt -> lp.resume.pt; with
                     --resume FILE and no --checkpoint: FILE itself)
  --autosave-minutes M  minutes between autosaves within an epoch (default 5;
                     fractions allowed; 0: after every batch)
  --no-autosave      do not autosave
  --dist             data-parallel training with the ranks given by MASTER_ADDR,
                     MASTER_PORT, WORLD_SIZE and RANK (see above)
  --dist-timeout S   seconds to wait for the rendezvous and for any collective
                     (a dead or stuck rank) before failing (default 60;
                     0.1 to 1000000)
  --progress-json    also print every progress report as one JSON line for tools
                     (QNN Studio's Train on N Processes reads them): {"progress":
                     "training"|"evaluating"|"epoch"|"finished"|"cancelled", "epoch",
                     "epochs", "batch", "batches", "step", "train_loss", "train_acc",
                     "test_loss", "test_acc", "seconds"}; with --dist rank 0 only
  -h, --help         show this help
)USAGE";
  if (command == "eval")
    return R"USAGE(Usage: qnn eval PROJECT (--checkpoint CKPT | --weights FILE) [OPTIONS]

Builds the network of PROJECT, loads the weights and quantizer state saved in CKPT
(by `qnn train --checkpoint` or the GUI), or the tensors of a PyTorch/Brevitas
state dict FILE whose keys match the layer ids, and evaluates it on the test set. Prints
the loss and accuracy, the accuracy of every class, and last
"test_accuracy=<fraction>".

Options:
  --checkpoint CKPT  the checkpoint to evaluate (of this very network)
  --weights FILE     or: a state dict (torch.save(model.state_dict()), e.g. from
                     Brevitas) or a checkpoint of a network with the same layer ids;
                     prints what was loaded, what starts from statistics, what was ignored
  --test-limit N     use only the first N test samples
  --threads N        LibTorch threads; 0 uses all cores (default: the project's)
  -h, --help         show this help
)USAGE";
  if (command == "import")
    return R"USAGE(Usage: qnn import MODEL.onnx --out PROJECT.qnn.json [--checkpoint CKPT]

Reads an ONNX model and writes the equivalent project and a checkpoint with its
weights and quantizer scales, so it evaluates, inspects, fine-tunes and exports like a
network drawn in the app:
  QONNX   Quant / BipolarQuant / Trunc (domains qonnx.custom_op.general, onnx.brevitas,
          finn.custom_op.general); rounding_mode ROUND (Trunc: ROUND or FLOOR)
  QCDQ    QuantizeLinear -> [Clip] -> DequantizeLinear on activations, integer
          weight / int32 bias codes -> [Clip] -> DequantizeLinear (per axis)
  float   Conv, Gemm, MatMul(+Add), Relu, Clip, Tanh, Sigmoid, MaxPool, AveragePool,
          GlobalAveragePool, BatchNormalization, Add, Concat, Flatten, the
          Shape/Gather/Reshape flatten chain
Quantizers become ParameterScaling quantizers holding the file's scales. Prints the
format, notes (e.g. preprocessing kept as a BatchNorm), every node no layer maps to,
and each weight quantizer's grid, scale, saturation and SQNR (computed from the file's
constants, also when the graph cannot run).

Options:
  --out PROJECT      the project file to write (*.qnn.json)
  --checkpoint CKPT  the checkpoint to write (default: PROJECT with .pt for .qnn.json)
  -h, --help         show this help

Exit status: 0 written; 1 a node maps to no layer (nothing written) or the file is not
a readable ONNX model (the message names the file and node); 2 unreadable file.
)USAGE";
  if (command == "export")
    return R"USAGE(Usage: qnn export PROJECT --checkpoint CKPT --format FORMAT --out FILE|DIR [OPTIONS]

Builds the network of PROJECT, loads CKPT and writes it in eval mode as FORMAT:
  qcdq        ONNX opset 13, QuantizeLinear -> Clip -> DequantizeLinear at every
              quantizer, integer weight codes; runs in ONNX Runtime
  qonnx       ONNX with Quant / BipolarQuant / Trunc (domain qonnx.custom_op.general), for FINN
  packed      packed integer model (codes bit-packed at their bit width; README "Export")
  checkpoint  LibTorch checkpoint, plus the project next to it (FILE with .qnn.json
              in place of its extension: --out m.pt writes m.qnn.json)
  brevitas    a folder DIR (created if missing) with model.py, the network as a
              brevitas.nn module (Brevitas 0.12.1; class named after the project, one
              attribute per layer id), and model.pt, its state dict with Brevitas's key
              names; in Python: model = Net(); model.load_state_dict(torch.load(
              'DIR/model.pt')); model.eval() gives the app's logits (README "Export to
              Brevitas")
First lists what the format cannot express ("error: conv1: 16-bit weights ...") and
writes nothing when there is such an error. Files are written atomically. ONNX files
carry the preprocessing in metadata "qnn.preprocessing".

Options:
  --checkpoint CKPT      the trained model (required)
  --format FORMAT        qcdq, qonnx, packed, checkpoint or brevitas (required)
  --out FILE             the file to write (required); brevitas: the folder
  --verify               run the written file on test images and compare with the app
                         (qcdq: in ONNX Runtime via node + onnxruntime-node; packed: the
                         packed reader); prints agreement and max |diff| in output-scale steps
  --verify-samples N     test images for --verify and for the --fold-bn comparison
                         (default 1000; 10000 = the full test set)
  --c-header FILE        packed: also write a C header with the same data
  --fold-bn              fold every BatchNorm2d / BatchNorm1d into the conv or linear
                         layer before it with the checkpoint's running statistics
                         (W' = W*gamma/sqrt(var+eps), b' = (b-mean)*gamma/sqrt(var+eps)+beta),
                         so the weight quantizer sees the folded weights; packed then
                         accepts the model. Refused (nothing written) for an untrained
                         BatchNorm or one not right after a conv / linear layer. Prints
                         how often the folded model predicts as the unfolded one (a
                         warning below 99 %: per-tensor low-bit weights lose codes;
                         --verify then checks the file against the folded model). With
                         --format checkpoint, the project next to FILE is the folded one
  --target T             export for deployment target T (none, onnxruntime, finn) instead
                         of the project's, as Edit > Deployment Target would set it (the
                         file is not changed). finn: qonnx is checked against FINN's
                         dataflow rules (refused, nothing written, on a violation), carries
                         each quantized tensor's FINN DataType (graph.quantization_annotation
                         "finn_datatype", as QONNX's InferDataTypes sets it) and the input's
                         FLOAT32; truncating pools use FLOOR (floor 1, named in a note)
  --threads N            LibTorch threads; 0 uses all cores (default: the project's)
  -h, --help             show this help

Exit status: 0 written (and verified); 1 the format cannot express the model, writing
failed or the verification failed; 2 unreadable project/checkpoint or bad command line.
)USAGE";
  if (command == "inspect")
    return R"USAGE(Usage: qnn inspect PROJECT --checkpoint CKPT --out DIR [OPTIONS]

Builds the network of PROJECT, loads CKPT and inspects it on a calibration batch (the
first N test images): per layer, the weights on the integer grid (one bin per level,
saturated codes, unused levels), the scales, each activation quantizer's input range
and clipped share, and the quantization error (MSE and SQNR in dB of the weights, the
activations, and each layer's output against the same network in float). Writes into
DIR (created if missing):
  layer_error.csv weights.csv weight_levels.csv weight_histogram.csv activations.csv
  activation_histogram.csv activation_levels.csv scales.csv biases.csv summary.csv
  weights_<layer>.png activation_<layer>.png scales.png layer_error.png
  confusion_matrix.png misclassified.png
(the PNGs are the views of the GUI's Inspection dock, rendered offscreen). The step
of scales.csv, summary.csv and scales.png, and the first line printed
("checkpoint CKPT: trained for 32 optimizer steps"), is the optimizer step count
`qnn train --checkpoint` or the GUI's Save Checkpoint recorded in CKPT ("not recorded",
step -1, for loaded, imported or folded models and older checkpoints). Prints the
per-layer SQNR table, the test accuracy and last "worst_layer=<id> (<sqnr> dB)": the
layer whose own quantizer has the lowest SQNR. A bias quantizer whose codes saturate
is printed as "warning: <layer>: k of n bias codes clipped (<quantizer>)".

Options:
  --checkpoint CKPT  the trained model (required)
  --out DIR          the folder to write (required)
  --samples N        calibration images, the first N of the test set (default 256)
  --test-limit N     use only the first N test images (confusion matrix, gallery)
  --threads N        LibTorch threads; 0 uses all cores (default: the project's)
  -h, --help         show this help
)USAGE";
  if (command == "calibrate")
    return R"USAGE(Usage: qnn calibrate PROJECT --weights FILE --out CKPT [OPTIONS]

Post-training calibration (Brevitas calibration_mode): builds the network of PROJECT,
loads FILE (a checkpoint or a PyTorch/Brevitas state dict matched by layer id; a float
checkpoint into a quantized project is a warm start), runs the first N x B training
images through the network in float while every activation quantizer with runtime
statistics collects its statistic, and sets each one's scale to the average (its
statistics phase is then over). Weight scales come from the weights. Evaluates on the
test set before (when every activation quantizer already had a scale) and after, and
saves the calibrated model as a checkpoint. Prints last "test_accuracy=<fraction>".
A project without such a quantizer (a float project, or only parameter-scaled
activations) has nothing to calibrate: exit 1, nothing written (unless
--bias-correction or --per-channel has something to do).

Options:
  --weights FILE       the trained weights (required)
  --out CKPT           the checkpoint to write (required)
  --batches N          calibration batches (default 16)
  --batch-size N       images per calibration batch (default 64)
  --bias-correction    then correct each conv / linear bias by the mean difference
                       between its float-weight and quantized-weight outputs
  --per-channel        make every Int8WeightPerTensorFloat weight quantizer per output
                       channel first: CKPT then holds the per-channel project
  --save-project P     also write that (per-channel) project to P
  --test-limit N       evaluate on the first N test images only
  --threads N          LibTorch threads; 0 uses all cores (default: the project's)
  -h, --help           show this help

Exit status: 0 written; 1 invalid project or bad data; 2 unreadable file or bad
command line; 130 stopped with Ctrl-C (nothing written). FILE may be a checkpoint of
another network: its tensors are loaded by name and shape, and a note names the
first difference (so do analyze, sweep and suggest --verify).
)USAGE";
  if (command == "analyze")
    return R"USAGE(Usage: qnn analyze PROJECT --weights FILE [--holdout N] [--out DIR]

The quantization analyzer: evaluates the trained model of PROJECT (FILE: a checkpoint
or state dict; activation quantizers without a scale are calibrated first) on the
first N test images in float, weights only, activations only and fully quantized,
then for every quantized layer with only that layer quantized and with every layer
but that one quantized, and traces each layer's output SQNR against float. Prints one
row per layer (layer, type, only_this %, all_but_this %, gain in points = all but
this - quantized, output SQNR in dB), the four headline accuracies and last
"keep_higher=<ids>" (layers whose gain exceeds 0.5 points, largest first; empty when
none).

Options:
  --weights FILE     the trained weights (required)
  --holdout N        held-out test images per evaluation (default 2000; 0 = all)
  --out DIR          also write DIR/analyzer.csv and DIR/analyzer.png
  --threads N        LibTorch threads; 0 uses all cores (default: the project's)
  -h, --help         show this help
)USAGE";
  if (command == "sweep")
    return R"USAGE(Usage: qnn sweep PROJECT --weights FILE --bits LO-HI --out DIR [OPTIONS]

The per-layer sensitivity sweep: for every weight (and/or activation) quantizer of
PROJECT and every bit width in LO..HI, sets only that quantizer to that bit width,
gives the network FILE's trained state and evaluates on the first N test images (the
same images for every point). A varied activation quantizer keeps its threshold (its
learned or calibrated range), so its scale follows the bit width and the point at the
project's own bit width equals the base; nothing is recalibrated per point. The base
model (FILE as given) is evaluated first; activation quantizers of it never calibrated
(still in their statistics phase) are calibrated once before, on
--calibration-batches x 64 training images. Progress lines with the ETA go to stderr
("sweep base model", then "sweep point 3/35 conv1.weight at 4 bits ..."); Ctrl-C stops
after the current point and writes the points done so far (exit 130). Writes into DIR
(created if missing):
  sweep.csv    layer,kind,bits,accuracy,accuracy_drop,loss,size_bytes,bitops (a
               "(base)" row first, then one row per point)
  sweep.json   {"format": "qnn-sweep", "version": 1, "project": PROJECT,
                "sweep": <the record, as in the project file's "sweep">}
  heatmap.png  accuracy drop per slot and bit width; curves.png  accuracy vs bits;
  front.png    the Pareto front of model size (BitOps for an activations-only sweep)
               vs predicted accuracy (complete sweeps)
Prints the drop table (points) and last
"base_accuracy=<fraction> points=<done>/<total> (+ base)" (the base evaluation is not
a point).

Distributed (--dist; `qnn launch --nproc N sweep PROJECT ...` starts N local ranks):
every rank runs `qnn sweep PROJECT --dist` with the same options and torchrun's
variables MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK (c10d TCPStore + Gloo over
TCP); a project file that differs from rank 0's is refused at start-up. Every rank
evaluates the base model, then the points go in rounds of N: point i (in the order
above) is evaluated by rank i mod N, and the round's results are all-gathered (c10d)
before the next round. Rank 0 prints the same lines and writes the same files as one
process (each progress line when its round is gathered); the other ranks print only
errors. With 1 thread per rank the points are bit-identical to one process's. A
point that fails or Ctrl-C on any rank ends the sweep on every rank at that point,
as in one process. A rank that dies, or does not answer within --dist-timeout
seconds (also the longest a rank waits for the slowest rank's point), ends every
rank with a message naming the rank (exit status 3 on the ranks that lost it).

Options:
  --weights FILE             the trained weights (required: a sweep needs a trained model)
  --bits LO-HI               bit widths, e.g. 2-8 (each 2..16; a single N sweeps N only)
  --what WHAT                weights (default), activations or both
  --holdout N                held-out test images per point (default 2000; 0 = all)
  --calibration-batches N    batches of 64 training images to calibrate the base model's
                             never-calibrated activation quantizers (default 8; unused
                             when FILE has every activation scale)
  --out DIR                  the folder to write (required)
  --save                     also store the record in PROJECT (project.sweep), so
                             QNN Studio shows it without recomputing
  --threads N                LibTorch threads; 0 uses all cores (default: the project's)
  --dist                     one rank of a distributed sweep (see above)
  --dist-timeout S           seconds for the rendezvous and each round's gather
                             (default 60, 0.1 to 1000000; needs --dist)
  -h, --help                 show this help

Exit status: 0 done; 1 invalid project, nothing to sweep or bad data; 2 unreadable
file or bad command line (bits outside 2..16, a range like 8-2, no --weights);
130 stopped with Ctrl-C (partial results written).
)USAGE";
  if (command == "suggest")
    return R"USAGE(Usage: qnn suggest PROJECT (--max-bytes N | --max-bitops N | --max-drop POINTS) --out NEW [OPTIONS]

Mixed precision from a sensitivity sweep: computes the Pareto front of cost against
predicted accuracy (base accuracy minus the sum of each slot's measured drop at its
bit width) over every per-slot bit-width configuration of the sweep's range (a
greedy path, one bit at a time, beyond 200000 configurations), prints it, picks a configuration (with a size or BitOps limit: the highest predicted
accuracy within it, then the lowest cost; with only --max-drop: the cheapest that
keeps the drop), prints its per-slot bit widths, predicted accuracy, size and BitOps,
and writes PROJECT with those bit widths to NEW, ready for
`qnn train NEW --weights FILE --epochs 2` (fine-tuning). The sweep is DIR/sweep.json
of `qnn sweep`, or the one saved in PROJECT by `qnn sweep --save`. Limits combine.

Options:
  --sweep FILE       the sweep.json to use (default: the sweep saved in PROJECT)
  --max-bytes N      at most N bytes of model size
  --max-bitops N     at most N BitOps per sample (e.g. 2.5e6)
  --max-drop POINTS  at most POINTS percentage points below the base accuracy
  --axis AXIS        auto (default), size or bitops: the cost of the front. auto is
                     bitops when only --max-bitops is given or when the sweep varies
                     activations only (they do not change the model size), else size
  --out NEW          the project to write (required)
  --verify           then evaluate the suggested configuration as a sweep point: FILE's
                     trained state, activation quantizers never calibrated calibrated
                     first (as the sweep did), on the sweep's held-out images;
                     prints measured vs predicted
  --weights FILE     the trained weights for --verify (only used by --verify)
  --threads N        LibTorch threads; 0 uses all cores (default: the project's)
  -h, --help         show this help

Exit status: 0 written; 1 no configuration meets the budget (the message names the
closest), the sweep is incomplete or of another network; 2 unreadable file or bad
command line (--out the same file as PROJECT, --weights without --verify); 130
stopped with Ctrl-C during --verify.
)USAGE";
  if (command == "validate")
    return R"USAGE(Usage: qnn validate PROJECT

Checks the graph of PROJECT: connections (every input port connected, no cycle, a
path from Input to Output), one Input and one Output, layer parameters, channel and
feature counts, spatial sizes, quantizer settings and bit widths, whether every bias
quantizer gets a quantized (per-tensor) input, and whether an Add sums tensors on
the same scale. First, without reading any data, whether the Input layer takes the
dataset's samples: Fashion-MNIST and MNIST give [1, 28 + 2 pad, 28 + 2 pad],
CIFAR-10 [3, 32 + 2 pad, 32 + 2 pad] ("error: input: the Input layer 'input' takes
samples of shape [3, 32, 32] but the dataset fashion-mnist gives [1, 32, 32] ...",
with the padding or Input shape that fits). Prints each problem as "error: <layer>: <message> (hint: ...)" or
"warning: ...", then every layer's output shape, value format (int4, uint4, int13,
float) and scale source (the layer whose scale the values carry). With --checkpoint,
also loads the trained model and warns for every bias quantizer whose codes saturate
at its scales ("warning: fc1: 2 of 6 bias codes clipped (Int8Bias); ..."). Exits with 1
when there is an error (warnings do not fail).

With the deployment target FINN (the project's "deployment_target": "finn", or
--target finn), also checks FINN's dataflow rules and warns on the layer at fault:
finn-zero-point (a quantizer with a zero point), finn-relu-quant (the quantizer after a
ReLU must be unsigned and not narrow), finn-identity-signed (any other activation
quantizer, e.g. the input's or one after a max pool, must be signed: FINN converts it
as a quantized identity), finn-act-bits (activations above 8 bits),
finn-input-quant (the network input must be quantized by a QuantIdentity),
finn-trunc-floor (truncating average pools must use floor 1), finn-join-scales (the
inputs of an Add or Concat on different scales), finn-unsupported-op (a float Tanh,
Sigmoid, HardTanh (Clip) or ReLU FINN has no hardware layer for, also the one a
QuantTanh/QuantSigmoid exports before its Quant; QuantHardTanh exports no Clip). qnn export --format
qonnx refuses a FINN-target project that breaks any of them.

Options:
  --checkpoint CKPT  also check the trained model's bias codes
  --target T         check against deployment target T (none, onnxruntime, finn)
                     instead of the project's own, as Edit > Deployment Target would
                     set it (finn also sets floor 1 on truncating pools, named in a
                     note); the file is not changed
  -h, --help         show this help
)USAGE";
  if (command == "summary")
    return R"USAGE(Usage: qnn summary PROJECT [--target none|onnxruntime|finn] [--pe N] [--simd N] [--clock-mhz F]

Prints one row per layer: parameters, multiply-accumulates per sample, weight and
bias bit widths and the bytes it takes at those bit widths (float layers at 32
bits), then the totals: the model size at the chosen bit widths against float32 and
the ratio. Scales and zero points are not counted. Exits with 1 when the graph is
invalid (the table is still printed; MACs of layers without a known shape show "?"
and the total is marked partial: ">= 117600 MACs per sample (partial: 3 layers
without shapes)");
the training and dataset settings are not checked (see qnn validate).

Below it, the hardware cost of every Conv1d/Conv2d/Linear (and Quant*) layer: input
bits A (the bit width of the quantized tensor it reads; "32f": a float input, counted
as 32 bits), weight bits W, BitOps = MACs x W x A, weight memory bits = weights x W
(without the bias), accumulator bits = A + W + ceil(log2 fan-in), and the totals line
"hardware: 4998240 BitOps per sample ..., 184410 weight memory bits (without biases)".
With the deployment target FINN (the project's, or --target finn), also FINN's MVAU
estimates per QuantLinear/QuantConv1d/QuantConv2d (a convolution as an MVAU after a
sliding-window generator; a depthwise QuantConv2d as a VVAU, marked "VVAU", with its
own BRAM18 rule) at a uniform folding: PE, SIMD, cycles per sample
(MH/PE x MW/SIMD x output pixels), LUTs (FINN lut_estimation()) and BRAM18 (FINN
bram_estimation()), and the totals with the throughput at the clock, set by the
slowest layer: "FINN estimate (PE 1, SIMD 1 requested, clamped to divisors; 100 MHz):
1729 LUTs, 18 BRAM18, 416.7 samples/s (slowest: conv2, 240000 cycles per sample)".
A network that breaks a FINN rule (qnn validate --target finn lists them) is no FINN
build yet, and the summary ends by saying so: "not a FINN build yet: 4 FINN rule
warnings: tanh1 (finn-unsupported-op), ...".

Options:
  --pe N             FINN folding: processing elements per layer (default 1); each
                     layer uses the largest divisor of its MH (output channels or
                     features) that is <= N
  --simd N           FINN folding: SIMD lanes per layer (default 1); the largest
                     divisor of its MW (fan-in) that is <= N
  --clock-mhz F      FINN clock for the throughput, in MHz (default 100; 1 to 2000)
                     --pe, --simd and --clock-mhz are refused with --target none or
                     onnxruntime; with a project whose target is not FINN they are
                     not used, which the summary says in a note
  --target T         summarise for deployment target T (none, onnxruntime, finn)
                     instead of the project's own; the file is not changed
  -h, --help         show this help
)USAGE";
  return "";
}

}  // namespace qnn::cli
