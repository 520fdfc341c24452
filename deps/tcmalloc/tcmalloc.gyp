{
  # The pinned gperftools' tcmalloc (version.json), built by node-gyp as a static PIC library linked into the
  # addon as the engine's private heap: build.js fetches, verifies and unpacks the source and writes
  # gperftools/tcmalloc.h; config.h is ours (no configure on a fresh machine). The "minimal" set of sources (no
  # heap checker or profiler), tcmalloc.cc and malloc_hook.cc through wrappers that leave out the libc, operator
  # new/delete and mmap overrides, and every symbol hidden: the addon's version script exports none of them.
  'variables': {
    'tcmalloc_sources': ['<!@(node build.js --sources)'],
  },
  'targets': [
    {
      'target_name': 'tcmalloc_source',
      'type': 'none',
      'actions': [
        {
          'action_name': 'prepare_tcmalloc',
          'inputs': ['version.json', 'build.js', '../fetch-source.js'],
          'outputs': ['out/include/gperftools/tcmalloc.h', '<@(tcmalloc_sources)'],
          'action': ['node', 'build.js'],
        },
      ],
    },
    {
      'target_name': 'tcmalloc',
      'type': 'static_library',
      'dependencies': ['tcmalloc_source'],
      'sources': ['<@(tcmalloc_sources)', 'tcmalloc_private.cc', 'malloc_hook_private.cc'],
      # config.h first, then the generated tcmalloc.h, then the unpacked tree's own headers.
      'include_dirs': ['.', 'out/include', '<!(node -p "\'src/\' + require(\'./version.json\').srcDir + \'/src\'")'],
      # What gperftools' Makefile.am compiles libtcmalloc_minimal with.
      'defines': ['NO_TCMALLOC_SAMPLES', 'NO_HEAP_CHECK', 'NDEBUG'],
      # Third-party code: its warnings are upstream's business (-w); the addon's own sources keep -Wall -Wextra.
      'cflags': ['-fPIC', '-fvisibility=hidden', '-w'],
      'cflags_cc': ['-fvisibility-inlines-hidden', '-fsized-deallocation', '-faligned-new'],
      'direct_dependent_settings': {
        'include_dirs': ['out/include', '<!(node -p "\'src/\' + require(\'./version.json\').srcDir + \'/src\'")'],
        'defines': ['USE_TCMALLOC'],
      },
    },
  ],
}
