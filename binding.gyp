{
  'variables': {
    # The allocator switch (deps/select-malloc.js): ARENAKV_MALLOC=jemalloc|tcmalloc|mimalloc|libc, ARENAKV_SANITIZER.
    'arenakv_malloc%': '<!(node deps/select-malloc.js malloc)',
    'arenakv_sanitizer%': '<!(node deps/select-malloc.js sanitizer)',
  },
  'targets': [
    {
      'target_name': 'arenakv',
      # Sources, defines and flags come from native/build.json, which CMakeLists.txt reads too: one list for both
      # builds.
      'sources': ["<!@(node -p \"require('./native/build.json').sources.join(' ')\")"],
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
      'defines': ["<!@(node -p \"require('./native/build.json').defines.join(' ')\")"],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc!': ['-fno-exceptions', '-std=gnu++17', '-std=gnu++20'],
      'cflags': ["<!@(node -p \"require('./native/build.json').cflags.join(' ')\")"],
      'cflags_cc': ["<!@(node -p \"require('./native/build.json').cflags_cc.join(' ')\")"],
      # Only the module's registration symbol may leave the .node: the vendored allocator stays private,
      # and the module is never unloaded while jemalloc's TLS destructors may still run (nodelete).
      'ldflags': [
        "<!@(node -p \"require('./native/build.json').ldflags.join(' ')\")",
        "-Wl,--version-script=<(module_root_dir)/<!(node -p \"require('./native/build.json').versionScript\")",
      ],
      'conditions': [
        ['arenakv_malloc=="jemalloc"', {
          'dependencies': ['deps/jemalloc/jemalloc.gyp:jemalloc'],
        }],
        # Each vendored allocator is a static PIC library built from its pinned source (deps/<name>/version.json)
        # and linked in with every symbol hidden: the engine's private heap, never the process's malloc.
        ['arenakv_malloc=="tcmalloc"', {
          'dependencies': ['deps/tcmalloc/tcmalloc.gyp:tcmalloc'],
        }],
        ['arenakv_malloc=="mimalloc"', {
          'dependencies': ['deps/mimalloc/mimalloc.gyp:mimalloc'],
        }],
        ['arenakv_sanitizer!="none"', {
          'defines': ['ARENAKV_SANITIZER="<(arenakv_sanitizer)"'],
          'cflags': ['-fsanitize=<(arenakv_sanitizer)', '-fno-omit-frame-pointer', '-g'],
          'ldflags': ['-fsanitize=<(arenakv_sanitizer)'],
        }],
      ],
    },
  ],
}
