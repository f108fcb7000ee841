# CPU-only build of the addon with node-gyp, used when cmake is not installed.
# scripts/build-addon.mjs picks it; CMakeLists.txt is the full build (CPU + CUDA).
{
  "variables": {
    "gmn_native%": "<!(node -p \"process.env.GMN_NATIVE === '0' ? 0 : 1\")",
    "gmn_march%": "<!(node -p \"process.env.GMN_MARCH || ''\")"
  },
  "targets": [
    {
      # The GEMM picks its micro-kernel at run time, so its own code stays at the baseline
      # instruction set (and without contraction into FMA) whatever GMN_NATIVE or GMN_MARCH say.
      "target_name": "gmn_sgemm",
      "type": "static_library",
      "sources": ["native/cpu/sgemm.cc"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fPIC", "-ffp-contract=off"],
      "conditions": [
        ["target_arch=='x64'", { "cflags_cc": ["-march=x86-64", "-mtune=generic"] }]
      ]
    },
    {
      "target_name": "gmn",
      "dependencies": ["gmn_sgemm"],
      "sources": [
        "<!@(node -p \"['base', 'cpu', 'ops', 'addon'].flatMap(d => require('fs').readdirSync('native/' + d).filter(f => f.endsWith('.cc') && f !== 'sgemm.cc').map(f => 'native/' + d + '/' + f)).join(' ')\")",
        "native/cuda/stub.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "GMN_WITH_CUDA=0", "GMN_NO_CUDA_CAUSE=3"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-fexceptions"],
      "conditions": [
        ["gmn_march!=''", { "cflags_cc": ["-march=<(gmn_march)"] }],
        ["gmn_march=='' and gmn_native==1", { "cflags_cc": ["-march=native"] }]
      ]
    }
  ]
}
