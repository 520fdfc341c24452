{
  # The pinned mimalloc (version.json), built by node-gyp as a static PIC library linked into the addon as the
  # engine's private heap: build.js fetches, verifies and unpacks the source; src/static.c is mimalloc's whole
  # library in one translation unit. No malloc override (MI_MALLOC_OVERRIDE stays undefined, so only mi_*
  # functions exist), local-dynamic TLS so it works in a module loaded by dlopen after startup, and every symbol
  # hidden: the addon's version script exports none of them.
  'variables': {
    'mimalloc_sources': ['<!@(node build.js --sources)'],
  },
  'targets': [
    {
      'target_name': 'mimalloc_source',
      'type': 'none',
      'actions': [
        {
          'action_name': 'prepare_mimalloc',
          'inputs': ['version.json', 'build.js', '../fetch-source.js'],
          'outputs': ['<@(mimalloc_sources)'],
          'action': ['node', 'build.js'],
        },
      ],
    },
    {
      'target_name': 'mimalloc',
      'type': 'static_library',
      'dependencies': ['mimalloc_source'],
      'sources': ['<@(mimalloc_sources)'],
      'include_dirs': ['<!(node -p "\'src/\' + require(\'./version.json\').srcDir + \'/include\'")'],
      # What mimalloc's CMakeLists.txt uses for a release static library; NDEBUG turns off its debug checks.
      'defines': ['NDEBUG', 'MI_STATIC_LIB'],
      'defines!': ['MI_MALLOC_OVERRIDE'],
      # Third-party code: its warnings are upstream's business (-w); the addon's own sources keep -Wall -Wextra.
      'cflags': ['-fPIC', '-fvisibility=hidden', '-ftls-model=local-dynamic', '-fno-builtin-malloc', '-w'],
      'cflags_c': ['-std=gnu11'],
      'direct_dependent_settings': {
        'include_dirs': ['<!(node -p "\'src/\' + require(\'./version.json\').srcDir + \'/include\'")'],
        'defines': ['USE_MIMALLOC'],
      },
    },
  ],
}
