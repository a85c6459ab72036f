// Prototypes off: every entry point is loaded through vkGetInstanceProcAddr /
// vkGetDeviceProcAddr from a dlopen'ed loader.
#define VK_NO_PROTOTYPES 1
#include <vulkan/vulkan.h>
