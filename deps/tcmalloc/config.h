/* gperftools' config.h for arenakv's private tcmalloc (deps/tcmalloc/tcmalloc.gyp): what gperftools' configure
 * would find on Linux x86-64 with glibc, written by hand because a fresh machine has neither autotools nor cmake.
 * Two choices differ from a stock build, both so tcmalloc can live inside a dlopen'ed addon as the engine's
 * private heap, beside glibc's malloc (ARCHITECTURE.md, "Allocators and builds"):
 *   - HAVE_TLS is left undefined: tcmalloc then finds its thread cache through a pthread key instead of an
 *     initial-exec __thread variable, which needs static TLS a module loaded after startup may not get (the
 *     reason deps/jemalloc/version.json passes --disable-initial-exec-tls).
 *   - HAVE_SBRK is left undefined: tcmalloc then takes memory from mmap only and never moves the program break
 *     that glibc's main arena grows.
 * The libc and operator new/delete overrides are not compiled at all (tcmalloc_private.cc). */
#ifndef GPERFTOOLS_CONFIG_H_
#define GPERFTOOLS_CONFIG_H_

#if !defined(__linux__) || !defined(__x86_64__)
#error "deps/tcmalloc/config.h describes Linux x86-64 with glibc"
#endif

#define HAVE_DECL_BACKTRACE 1
#define HAVE_DECL_CFREE 0
#define HAVE_DECL_MEMALIGN 1
#define HAVE_DECL_NANOSLEEP 1
#define HAVE_DECL_POSIX_MEMALIGN 1
#define HAVE_DECL_PVALLOC 1
#define HAVE_DECL_SLEEP 1
#define HAVE_DECL_VALLOC 1
#define HAVE_DLFCN_H 1
#define HAVE_ELF32_VERSYM 1
#define HAVE_EXECINFO_H 1
#define HAVE_FCNTL_H 1
#define HAVE_FEATURES_H 1
#define HAVE_FORK 1
#define HAVE_GETEUID 1
#define HAVE_GLOB_H 1
#define HAVE_GRP_H 1
#define HAVE_INTTYPES_H 1
#define HAVE_LINUX_PTRACE_H 1
#define HAVE_LINUX_SIGEV_THREAD_ID 1
#define HAVE_MALLOC_H 1
#define HAVE_MEMORY_H 1
#define HAVE_MMAP 1
#define HAVE_POLL_H 1
#define HAVE_PROGRAM_INVOCATION_NAME 1
#define HAVE_PTHREAD 1
#define HAVE_PWD_H 1
#define HAVE_SCHED_H 1
#define HAVE_STDINT_H 1
#define HAVE_STDLIB_H 1
#define HAVE_STRINGS_H 1
#define HAVE_STRING_H 1
#define HAVE_STRUCT_MALLINFO 1
#define HAVE_SYS_CDEFS_H 1
#define HAVE_SYS_PRCTL_H 1
#define HAVE_SYS_RESOURCE_H 1
#define HAVE_SYS_SOCKET_H 1
#define HAVE_SYS_STAT_H 1
#define HAVE_SYS_SYSCALL_H 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_SYS_UCONTEXT_H 1
#define HAVE_SYS_WAIT_H 1
#define HAVE_UCONTEXT_H 1
#define HAVE_UNISTD_H 1
#define HAVE_UNWIND_BACKTRACE 1
#define HAVE_UNWIND_H 1
#define HAVE___ATTRIBUTE__ 1
#define HAVE___ATTRIBUTE__ALIGNED_FN 1
#define HAVE___ENVIRON 1

#define PACKAGE "gperftools"
#define PACKAGE_BUGREPORT ""
#define PACKAGE_NAME "gperftools"
#define PACKAGE_STRING "gperftools 2.10"
#define PACKAGE_TARNAME "gperftools"
#define PACKAGE_URL ""
#define PACKAGE_VERSION "2.10"
#define VERSION "2.10"

#define PC_FROM_UCONTEXT uc_mcontext.gregs[REG_RIP]

#ifndef PERFTOOLS_DLL_DECL
#define PERFTOOLS_DLL_DECL
#define PERFTOOLS_DLL_DECL_FOR_UNITTESTS
#endif

#define PTHREAD_CREATE_JOINABLE PTHREAD_CREATE_JOINABLE
#define STDC_HEADERS 1

#ifndef __STDC_FORMAT_MACROS
#define __STDC_FORMAT_MACROS 1
#endif

#endif  /* GPERFTOOLS_CONFIG_H_ */
