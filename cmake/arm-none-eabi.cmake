# Toolchain file for bare-metal Cortex-M4F with Debian's gcc-arm-none-eabi (newlib):
#   cmake -G Ninja -DCMAKE_TOOLCHAIN_FILE=<lwip-ws>/cmake/arm-none-eabi.cmake ...
# lwip-ws derives its Rust target (thumbv7em-none-eabihf) from CMAKE_SYSTEM_PROCESSOR and
# the -mcpu/-mfloat-abi flags below. For another core, copy this file and change both
# (cortex-m3: -mcpu=cortex-m3 -mthumb, Rust target thumbv7m-none-eabi).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR cortex-m4)

set(ARM_NONE_EABI_PREFIX arm-none-eabi- CACHE STRING "prefix of the cross tools")
set(CMAKE_C_COMPILER ${ARM_NONE_EABI_PREFIX}gcc)
set(CMAKE_CXX_COMPILER ${ARM_NONE_EABI_PREFIX}g++)
set(CMAKE_ASM_COMPILER ${ARM_NONE_EABI_PREFIX}gcc)
set(CMAKE_AR ${ARM_NONE_EABI_PREFIX}ar CACHE FILEPATH "archiver")
# No OS to run test programs on: CMake's compiler checks build a static library instead.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
set(CMAKE_CXX_FLAGS_INIT "${CMAKE_C_FLAGS_INIT}")
set(CMAKE_ASM_FLAGS_INIT "${CMAKE_C_FLAGS_INIT}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
