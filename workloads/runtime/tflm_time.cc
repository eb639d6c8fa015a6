// TensorFlow Lite Micro's platform timer (tensorflow/lite/micro/micro_time.h)
// on the board-support package's cycle counter. The cortex_m_generic build
// reads DWT_CYCCNT but answers 0 from ticks_per_second(), so its profiler
// cannot turn ticks into time. Link this file's object before the library:
// the linker then never pulls the library's micro_time.o, which defines both
// functions (overriding only one of them is a duplicate definition).
#include <cstdint>

#include "bsp.h"

namespace tflite {

uint32_t ticks_per_second()
{
    return mb_cycles_per_second();
}

uint32_t GetCurrentTimeTicks()
{
    return mb_cycles();
}

} // namespace tflite
