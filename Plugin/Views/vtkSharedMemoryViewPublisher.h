// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   vtkSharedMemoryViewPublisher
 * @brief   Publishes a ParaView view's render window (the server side of SharedMemoryViewPublisher).
 *
 * vtkSharedMemoryViewPublisher is the object behind the ParaView proxy
 * `SharedMemoryViewPublisher`: a vtkSharedMemoryRenderWindowPublisher whose
 * window is the one of a view (vtkPVView::GetRenderWindow()) on the process
 * that holds it. The proxy lives where the view renders (the render server,
 * or the only process in builtin mode and pvbatch), so frames are published
 * on the machine whose pixels they are.
 *
 * It starts enabled: publishing begins as soon as View and FileName are both
 * set, and setting View to nullptr (or deleting the proxy) stops it. In
 * pvpython:
 * @code{.py}
 * LoadPlugin("/path/to/SharedMemoryImage.so", remote=False, ns=globals())
 * view = GetActiveViewOrCreate("RenderView")
 * publisher = servermanager.misc.SharedMemoryViewPublisher(
 *     View=view, FileName="/dev/shm/view.smi", MaximumRate=30)
 * # ... every Render(view) now publishes; publisher.View = None stops.
 * @endcode
 *
 * With a remote pvserver, load the plugin on the server too (remote=True) and
 * make the server render (RenderViewSettings RemoteRenderThreshold 0), or the
 * client renders locally and the server's window stays empty.
 */

#ifndef vtkSharedMemoryViewPublisher_h
#define vtkSharedMemoryViewPublisher_h

#include "vtkSharedMemoryImageViewsModule.h" // For export macro
#include "vtkSharedMemoryRenderWindowPublisher.h"

class VTKSHAREDMEMORYIMAGEVIEWS_EXPORT vtkSharedMemoryViewPublisher
  : public vtkSharedMemoryRenderWindowPublisher
{
public:
  static vtkSharedMemoryViewPublisher* New();
  vtkTypeMacro(vtkSharedMemoryViewPublisher, vtkSharedMemoryRenderWindowPublisher);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  /**
   * The view to publish: a vtkPVView (anything else, or nullptr, publishes
   * nothing). Its render window becomes this object's RenderWindow. In
   * parallel runs only the first rank, which holds the composited image,
   * publishes.
   */
  void SetView(vtkObject* view);

protected:
  vtkSharedMemoryViewPublisher();
  ~vtkSharedMemoryViewPublisher() override;

private:
  vtkSharedMemoryViewPublisher(const vtkSharedMemoryViewPublisher&) = delete;
  void operator=(const vtkSharedMemoryViewPublisher&) = delete;
};

#endif
