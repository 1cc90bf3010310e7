// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   vtkSharedMemoryImagePipelineController
 * @brief   Shows shared-memory image streams in their own colors (private to the plugin).
 *
 * ParaView shows every new display through its pipeline controller
 * (vtkSMParaViewPipelineControllerWithRendering): the GUI's Apply and
 * pvpython's Show() alike. Its defaults suit data, not pictures: an image is
 * colored by its scalars through a color map, RGB included (Map Scalars on).
 * The source's XML asks for the Slice representation (a RepresentationType
 * hint, ParaView's own mechanism); ParaView has no hint for Map Scalars, so
 * the plugin puts this controller in place of ParaView's with a VTK object
 * factory (registered when the plugin's library is loaded). It differs in one
 * thing: when it creates a display of a Shared Memory Image Stream, it
 * calls ShowInOwnColors(), at once when the source has a frame, else when
 * its first frame arrives (the source added before its server started: the
 * controller watches the source proxy's updates until then, unless the
 * display's coloring was chosen meanwhile). Displays of anything else, and displays restored
 * from a state file (which do not go through Show), are untouched.
 */

#ifndef vtkSharedMemoryImagePipelineController_h
#define vtkSharedMemoryImagePipelineController_h

#include "vtkSMParaViewPipelineControllerWithRendering.h"

class vtkSharedMemoryImagePipelineController : public vtkSMParaViewPipelineControllerWithRendering
{
public:
  static vtkSharedMemoryImagePipelineController* New();
  // No vtkTypeMacro: the object keeps the class name of the controller it
  // stands in for. ParaView's Python wraps objects by class name, and a name
  // it does not know makes it wrap this one as the class the script asked
  // for (vtkSMParaViewPipelineController, which has no Show()).
  using Superclass = vtkSMParaViewPipelineControllerWithRendering;

  /**
   * ParaView's Show(); a display it creates for a SharedMemoryImageSource
   * proxy then goes through ShowInOwnColors(), now or at the first frame.
   */
  vtkSMProxy* Show(vtkSMSourceProxy* producer, int outputPort, vtkSMViewProxy* view,
    const char* representationType) override;
  using Superclass::Show;

  /**
   * ParaView's RegisterPipelineProxy(); a SharedMemoryImageSource proxy also
   * gets its Status information property kept current after every update
   * (fetched when it changed; after every update with a remote server), so
   * that the Properties panel shows where the source stands.
   */
  bool RegisterPipelineProxy(vtkSMProxy* proxy, const char* proxyname) override;
  using Superclass::RegisterPipelineProxy;

  /**
   * Set up the display `repr` (in `view`) of a stream's image: colored by
   * its Pixels; RGB and RGBA (unsigned char) as they are (Map Scalars off,
   * no color legend); one channel through the Grayscale map over the format's
   * range (0-255 for gray8) or the data's (gray16, float and the other
   * integer formats); and the view in 2-D interaction when the image is flat
   * and alone in it. True when
   * it changed anything.
   */
  static bool ShowInOwnColors(vtkSMProxy* repr, vtkSMSourceProxy* producer, int outputPort,
    vtkSMViewProxy* view);

protected:
  vtkSharedMemoryImagePipelineController() = default;
  ~vtkSharedMemoryImagePipelineController() override = default;

private:
  vtkSharedMemoryImagePipelineController(const vtkSharedMemoryImagePipelineController&) = delete;
  void operator=(const vtkSharedMemoryImagePipelineController&) = delete;
};

#endif
