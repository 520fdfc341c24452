{
  # Builds the pinned jemalloc with deps/jemalloc/build.js (configure flags in version.json, shared with
  # CMakeLists.txt) and hands its static PIC archive and headers to the addon.
  'targets': [
    {
      'target_name': 'jemalloc',
      'type': 'none',
      'actions': [
        {
          'action_name': 'build_jemalloc',
          'inputs': ['version.json', 'build.js', 'fetch.js'],
          'outputs': ['out/lib/libjemalloc_pic.a', 'out/include/jemalloc/jemalloc.h'],
          'action': ['node', 'build.js'],
        },
      ],
      'direct_dependent_settings': {
        'include_dirs': ['out/include'],
        'defines': ['USE_JEMALLOC'],
      },
      'link_settings': {
        'libraries': ['<(module_root_dir)/deps/jemalloc/out/lib/libjemalloc_pic.a', '-lpthread'],
      },
    },
  ],
}
