{
  'variables': {
    # The allocator switch (deps/select-malloc.js): ARENAKV_MALLOC=jemalloc|tcmalloc|libc, ARENAKV_SANITIZER.
    'arenakv_malloc%': '<!(node deps/select-malloc.js malloc)',
    'arenakv_sanitizer%': '<!(node deps/select-malloc.js sanitizer)',
  },
  'targets': [
    {
      'target_name': 'arenakv',
      'sources': [
        'native/addon.cc',
        'native/errors.cc',
        'native/jemalloc_ctl.cc',
        'native/pages.cc',
        'native/pages_binding.cc',
        'native/rss.cc',
        'native/store.cc',
        'native/store_binding.cc',
        'native/zmalloc.cc',
      ],
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
      'defines': ['NAPI_VERSION=8', 'NODE_ADDON_API_CPP_EXCEPTIONS', 'NODE_ADDON_API_CPP_EXCEPTIONS_ALL',
                  'ARENAKV_MALLOC="<(arenakv_malloc)"'],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc!': ['-fno-exceptions', '-std=gnu++17', '-std=gnu++20'],
      'cflags': ['-Wall', '-Wextra', '-fvisibility=hidden'],
      'cflags_cc': ['-std=c++17', '-fexceptions', '-fvisibility=hidden'],
      # Only the module's registration symbol may leave the .node: the vendored allocator stays private,
      # and the module is never unloaded while jemalloc's TLS destructors may still run (nodelete).
      'ldflags': ['-Wl,--exclude-libs,ALL', '-Wl,-z,nodelete', '-Wl,--version-script=<(module_root_dir)/native/exports.map'],
      'conditions': [
        ['arenakv_malloc=="jemalloc"', {
          'dependencies': ['deps/jemalloc/jemalloc.gyp:jemalloc'],
        }],
        ['arenakv_malloc=="tcmalloc"', {
          'defines': ['USE_TCMALLOC'],
          # Debian's static archives are not PIC: link the shared minimal library (see DESIGN §2).
          'libraries': ['-ltcmalloc_minimal'],
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
