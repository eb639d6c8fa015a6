# The mcubench board-support package: what firmware built outside this
# repository (TFLM, CMSIS-NN, vendor code) links with to run under mcubench,
# the same start-up, system calls and semihosting every workload image uses.
# Include this file from another Makefile (any directory) and use:
#
#   BSP_C_SRCS     the C sources: start-up (vector table, .data/.bss, FPU on,
#                  cycle counter on, static constructors, exit(main())),
#                  newlib nano system calls (_write, _sbrk bounded by the
#                  script's heap, _exit...), __dso_handle, semihosting output
#   BSP_TFLM_SRCS  C++: TFLM's ticks_per_second()/GetCurrentTimeTicks() on
#                  the cycle counter (for TFLM builds only)
#   BSP_HEADERS    bsp.h (C and C++) and mcubench.h
#   BSP_CPPFLAGS   the include path for bsp.h
#   BSP_LDFLAGS    link flags: no crt0 (the start-up above replaces it),
#                  newlib nano, unused sections dropped
#
# with the core's -mcpu/-mfpu/-mfloat-abi on every compile and on the link,
# and -T with a script from `mcubench ldscript --target T` (or the workloads'
# runtime/<core>.ld). Link C++ firmware with arm-none-eabi-g++, so that
# libstdc++ (nano) comes in. docs/tflm.md walks through a whole TFLM build.

BSP_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

BSP_C_SRCS    := $(sort $(wildcard $(BSP_DIR)/*.c))
BSP_TFLM_SRCS := $(BSP_DIR)/tflm_time.cc
BSP_HEADERS   := $(sort $(wildcard $(BSP_DIR)/*.h))
BSP_CPPFLAGS  := -I$(BSP_DIR)
BSP_LDFLAGS   := -nostartfiles --specs=nano.specs -Wl,--gc-sections
