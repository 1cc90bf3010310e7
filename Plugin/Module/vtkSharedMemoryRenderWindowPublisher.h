// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   vtkSharedMemoryRenderWindowPublisher
 * @brief   Publishes every render of a vtkRenderWindow as a shared-memory image stream.
 *
 * vtkSharedMemoryRenderWindowPublisher serves a stream (see the C API in
 * shared_memory_image.h) whose frames are the pixels of a render
 * window. It observes the window's EndEvent: after each Render() it reads the
 * window's color buffer straight into a free buffer of the stream
 * (SharedMemoryImageStream_acquire(), glReadPixels, then publish()), so a
 * frame costs one read-back and no extra copy. Frames are packed RGB. In the
 * extended layout they are stored as OpenGL reads them, bottom row first,
 * and say so (IMAGESTREAM_FRAME_BOTTOMUP): vtkSharedMemoryImageSource uses
 * them without a copy, other clients turn them upright. In EnSight's layout,
 * always top row first, the rows are read in that order on Mesa
 * (GL_MESA_pack_invert), elsewhere reversed in place.
 *
 * A C++ VTK program publishes a window in three lines:
 * @code
 * vtkNew<vtkSharedMemoryRenderWindowPublisher> publisher;
 * publisher->SetRenderWindow(renderWindow);
 * publisher->SetFileName("/dev/shm/view.smi");
 * publisher->Start();   // from now on, every renderWindow->Render() publishes
 * @endcode
 *
 * The file is created if it does not exist and grown when the window is larger
 * than its buffers. The frame size follows the window: after a resize, the
 * next frame has the new size. Growing a file that clients are attached to is
 * only possible once they detach (they map the old size); until then frames
 * that do not fit are dropped with one warning. The first file is sized for at
 * least 1920x1080 to leave room for resizes.
 *
 * MaximumRate limits how many renders per second are published; renders in
 * between are not published (call Publish() to publish the current image at
 * once). Render passes made for selection (a renderer with a hardware
 * selector) are never published.
 *
 * With EnSightLayout on, the stream uses EnSight's file layout (one client,
 * readable by EnSight's own client) instead of the extended one (many clients,
 * blocking waits, crash safety). With EnSight's layout no frame is published
 * while no client is attached.
 *
 * Threads: call everything from the thread that renders the window.
 *
 * In ParaView, the proxy SharedMemoryViewPublisher (class
 * vtkSharedMemoryViewPublisher) publishes a view's window.
 *
 * @sa vtkSharedMemoryImageSource vtkSharedMemoryImageWriter
 */

#ifndef vtkSharedMemoryRenderWindowPublisher_h
#define vtkSharedMemoryRenderWindowPublisher_h

#include "vtkObject.h"
#include "vtkSharedMemoryImageModule.h" // For export macro

#include <memory> // For std::unique_ptr

class vtkRenderWindow;

class VTKSHAREDMEMORYIMAGE_EXPORT vtkSharedMemoryRenderWindowPublisher : public vtkObject
{
public:
  static vtkSharedMemoryRenderWindowPublisher* New();
  vtkTypeMacro(vtkSharedMemoryRenderWindowPublisher, vtkObject);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  ///@{
  /**
   * The window to publish. Setting another window while publishing moves the
   * observer to it (the stream stays open). Default: nullptr.
   */
  virtual void SetRenderWindow(vtkRenderWindow* window);
  vtkGetObjectMacro(RenderWindow, vtkRenderWindow);
  ///@}

  ///@{
  /**
   * Stream file to serve (for example /dev/shm/view.smi); created when
   * missing. Changing it while publishing closes the old stream and serves
   * the new file. Default: nullptr.
   */
  virtual void SetFileName(const char* name);
  vtkGetStringMacro(FileName);
  ///@}

  ///@{
  /**
   * Most frames published per second; renders that come sooner after the
   * last published one are skipped. 0 publishes every render. Default: 0.
   */
  vtkSetClampMacro(MaximumRate, double, 0.0, VTK_DOUBLE_MAX);
  vtkGetMacro(MaximumRate, double);
  ///@}

  ///@{
  /**
   * Serve EnSight's file layout instead of the extended one. Changing it
   * while publishing reopens the stream. Default: false.
   */
  virtual void SetEnSightLayout(bool enSight);
  vtkGetMacro(EnSightLayout, bool);
  vtkBooleanMacro(EnSightLayout, bool);
  ///@}

  /**
   * Open the stream and publish every render from now on. Returns true when
   * publishing; false, with an error, when there is no window or file name,
   * or the stream cannot be served (another live server holds it, say).
   */
  bool Start();

  /**
   * Stop publishing and close the stream (the file and its last frame stay).
   */
  void Stop();

  /**
   * True between a successful Start() and Stop().
   */
  bool IsPublishing() const;

  ///@{
  /**
   * Start() or Stop() in the form of a property, for ParaView: while Enabled
   * is true, publishing (re)starts by itself as soon as a window and a file
   * name are both set, and follows changes to either. Start() sets it on,
   * Stop() off. Default: false.
   */
  virtual void SetEnabled(bool enabled);
  vtkGetMacro(Enabled, bool);
  vtkBooleanMacro(Enabled, bool);
  ///@}

  /**
   * Publish the window's current pixels now, without rendering and whatever
   * MaximumRate says. Returns true when a frame was published; false when
   * not publishing, on error, or when the frame was dropped (no free buffer,
   * or no client on an EnSight-layout stream).
   */
  bool Publish();

  ///@{
  /**
   * Frames published, and renders not published (skipped for MaximumRate, or
   * dropped because no buffer was free), since the object was created.
   */
  vtkGetMacro(NumberOfPublishedFrames, vtkIdType);
  vtkGetMacro(NumberOfSkippedFrames, vtkIdType);
  ///@}

  /**
   * Number of the last frame published, or 0 before the first one.
   */
  vtkGetMacro(LastFrameNumber, vtkIdType);

protected:
  vtkSharedMemoryRenderWindowPublisher();
  ~vtkSharedMemoryRenderWindowPublisher() override;

  /** Bring the stream and observer in line with Enabled, the window and the file. */
  void Reconcile();

  vtkRenderWindow* RenderWindow = nullptr;
  char* FileName = nullptr;
  double MaximumRate = 0.0;
  bool EnSightLayout = false;
  bool Enabled = false;
  vtkIdType NumberOfPublishedFrames = 0;
  vtkIdType NumberOfSkippedFrames = 0;
  vtkIdType LastFrameNumber = 0;

private:
  vtkSharedMemoryRenderWindowPublisher(const vtkSharedMemoryRenderWindowPublisher&) = delete;
  void operator=(const vtkSharedMemoryRenderWindowPublisher&) = delete;

  struct vtkInternals;
  std::unique_ptr<vtkInternals> Internals;
};

#endif
