# CMake toolchain file: gpuvm-trace for arm64 (aarch64) Linux, cross-built on a Debian
# x86-64 machine with multiarch (tests/arm64/setup-cross.sh installs what it needs).
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=tests/arm64/aarch64-linux-gnu.cmake
#   cmake --build build-arm64 -j2 --target gpuvm-trace
# The BPF object follows CMAKE_SYSTEM_PROCESSOR (bpf/BpfObject.cmake: arm64 kprobe
# registers); clang and bpftool are the build machine's own.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Debian multiarch: libraries, pkg-config files and CMake packages of arm64 live under
# .../aarch64-linux-gnu/ of the ordinary prefixes.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
# Packages that are not co-installable with their x86 build (libsimdjson-dev) are
# unpacked here by setup-cross.sh.
set(GVT_ARM64_STAGE "$ENV{GVT_CACHE}" CACHE PATH "Root of the unpacked arm64 -dev packages")
if(NOT GVT_ARM64_STAGE)
  set(GVT_ARM64_STAGE /var/cache/gpuvm-trace)
endif()
list(APPEND CMAKE_PREFIX_PATH "${GVT_ARM64_STAGE}/arm64-stage/usr")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# Lets CMake run the arm64 gpuvm-trace at build time (man page, completion).
find_program(GVT_QEMU_AARCH64 qemu-aarch64-static qemu-aarch64)
if(GVT_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${GVT_QEMU_AARCH64};-L;/usr/aarch64-linux-gnu")
endif()
# The cross compiler searches its own kernel headers first (linux-libc-dev-arm64-cross:
# Linux 6.1 in bookworm), which lack the bpf_link_info fields the tracer reads; the
# host's linux-libc-dev (6.12 from bookworm-backports, Architecture: all) carries the
# arm64 asm/ too. Put only its linux/, asm/ and asm-generic/ in front.
set(GVT_ARM64_UAPI "${CMAKE_BINARY_DIR}/arm64-uapi")
file(MAKE_DIRECTORY "${GVT_ARM64_UAPI}")
foreach(pair "linux=/usr/include/linux" "asm=/usr/include/aarch64-linux-gnu/asm" "asm-generic=/usr/include/asm-generic")
  string(REPLACE "=" ";" pair "${pair}")
  list(GET pair 0 name)
  list(GET pair 1 target)
  file(CREATE_LINK "${target}" "${GVT_ARM64_UAPI}/${name}" SYMBOLIC)
endforeach()
set(CMAKE_C_FLAGS_INIT "-isystem ${GVT_ARM64_UAPI}")
set(CMAKE_CXX_FLAGS_INIT "-isystem ${GVT_ARM64_UAPI}")
