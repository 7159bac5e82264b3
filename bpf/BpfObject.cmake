# gvt_bpf_object(OUT SRC DEPENDS...): compiles one BPF C file to OUT for the target
# architecture, the way libbpf-bootstrap's bpf_object() does:
# - GVT_BPF_ARCH (x86, arm64, ...) from GVT_BPF_PROCESSOR (default: the processor
#   CMake builds for), for bpf_tracing.h's PT_REGS_* (kprobe argument registers);
# - the compiler's own system include directories (scraped from `clang -v -E -`) as
#   -idirafter, because `-target bpf` drops the host's multiarch directory where
#   Debian keeps asm/ (prior-art.md §1.1).
# A separate file so that tests/bpf/arch can build the object for another
# architecture without configuring the whole project.
find_program(GVT_CLANG NAMES clang clang-14 REQUIRED)
find_program(GVT_LLVM_STRIP NAMES llvm-strip llvm-strip-14)

set(GVT_BPF_PROCESSOR "${CMAKE_SYSTEM_PROCESSOR}" CACHE STRING
    "Processor the BPF programs are built for (uname -m spelling)")
if(GVT_BPF_PROCESSOR MATCHES "^(x86_64|amd64|AMD64)$")
  set(GVT_BPF_ARCH x86)
elseif(GVT_BPF_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(GVT_BPF_ARCH arm64)
elseif(GVT_BPF_PROCESSOR MATCHES "^arm")
  set(GVT_BPF_ARCH arm)
elseif(GVT_BPF_PROCESSOR MATCHES "^ppc64")
  set(GVT_BPF_ARCH powerpc)
elseif(GVT_BPF_PROCESSOR MATCHES "^mips")
  set(GVT_BPF_ARCH mips)
elseif(GVT_BPF_PROCESSOR MATCHES "^riscv64")
  set(GVT_BPF_ARCH riscv)
elseif(GVT_BPF_PROCESSOR MATCHES "^loongarch64")
  set(GVT_BPF_ARCH loongarch)
elseif(GVT_BPF_PROCESSOR MATCHES "^s390x")
  set(GVT_BPF_ARCH s390)
else()
  message(FATAL_ERROR "BPF: no kprobe register layout known for processor '${GVT_BPF_PROCESSOR}'; "
                      "set GVT_BPF_PROCESSOR or -DGVT_LIVE=OFF")
endif()
message(STATUS "BPF target architecture: ${GVT_BPF_ARCH} (processor ${GVT_BPF_PROCESSOR})")

execute_process(
  COMMAND ${GVT_CLANG} -v -E -
  INPUT_FILE /dev/null
  OUTPUT_QUIET
  ERROR_VARIABLE GVT_CLANG_V
  RESULT_VARIABLE GVT_CLANG_RC)
if(NOT GVT_CLANG_RC EQUAL 0)
  message(FATAL_ERROR "BPF: '${GVT_CLANG} -v -E -' failed")
endif()
set(GVT_BPF_SYSTEM_INCLUDES "")
set(in_list FALSE)
string(REPLACE "\n" ";" GVT_CLANG_V_LINES "${GVT_CLANG_V}")
foreach(line IN LISTS GVT_CLANG_V_LINES)
  if(line MATCHES "^#include <\\.\\.\\.> search starts here:")
    set(in_list TRUE)
  elseif(line MATCHES "^End of search list\\.")
    set(in_list FALSE)
  elseif(in_list AND line MATCHES "^ (/.*)$")
    list(APPEND GVT_BPF_SYSTEM_INCLUDES -idirafter ${CMAKE_MATCH_1})
  endif()
endforeach()

function(gvt_bpf_object out src)
  set(flags -g -O2 -target bpf -D__TARGET_ARCH_${GVT_BPF_ARCH} -Wall -Wno-unused-function
            ${GVT_BPF_SYSTEM_INCLUDES} ${GVT_BPF_INCLUDES})
  # DWARF is not needed at run time (BTF is): strip it to keep the binary small.
  if(GVT_LLVM_STRIP)
    set(strip COMMAND ${GVT_LLVM_STRIP} -g ${out})
  endif()
  get_filename_component(name ${out} NAME)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${GVT_CLANG} ${flags} -c ${src} -o ${out}
    ${strip}
    DEPENDS ${src} ${ARGN}
    COMMENT "BPF ${name} (${GVT_BPF_ARCH})"
    VERBATIM)
endfunction()
