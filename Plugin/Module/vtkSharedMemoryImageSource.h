// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   vtkSharedMemoryImageSource
 * @brief   Live source: the newest frame of a shared-memory image stream as vtkImageData.
 *
 * vtkSharedMemoryImageSource attaches as a client to the stream in FileName
 * (either file layout: EnSight's or the extended one) and produces its newest
 * frame, upright in a render view (vtkImageData is bottom row first). A frame
 * stored bottom row first (IMAGESTREAM_FRAME_BOTTOMUP: what
 * vtkSharedMemoryRenderWindowPublisher and vtkSharedMemoryImageWriter
 * publish) is not copied at all (ZeroCopy): the output's array points into
 * the locked frame. A frame stored top row first (EnSight's order, and every
 * EnSight-layout frame) is copied once out of the shared mapping, rows
 * flipped on the way.
 *
 * | stream format | scalars                               |
 * |---------------|---------------------------------------|
 * | rgb8          | unsigned char, 3 components           |
 * | rgba8         | unsigned char, 4 components           |
 * | gray8         | unsigned char, 1 component            |
 * | gray16        | unsigned short, 1 component           |
 * | float32       | float, 1 component                    |
 * | int16         | short, 1 component                    |
 * | int32         | int, 1 component                      |
 * | uint32        | unsigned int, 1 component             |
 * | float64       | double, 1 component                   |
 *
 * A frame of width w, height h and depth d has the extent
 * (0, w-1, 0, h-1, 0, d-1), and the spacing and origin the server gave it.
 * Field data: `FrameNumber` (vtkTypeUInt32) and `Timestamp` (double,
 * seconds) of the frame; `PixelFormat` (string: rgb8, rgba8, gray8, gray16,
 * float32, int16, int32, uint32, float64), `FramesPerSecond` (double: frames received per second over the
 * last two seconds) and `ServerAlive` (int, 0 or 1), as of the last update.
 *
 * Each new frame is taken in RequestInformation (locked, then lent or
 * copied and unlocked), so the extent announced is the one delivered;
 * RequestData shares the frame's array into the output.
 *
 * A lent frame stays locked for as long as VTK holds its array (the output,
 * a downstream filter's shallow copy, a Python reference): its buffer is
 * never written meanwhile, and freeing the last holder unlocks it (the
 * array's free function), on whatever thread frees it. Each frame held
 * takes one client slot of the stream (the source opens up to four, always
 * keeping one free for the next frame; when downstream holds more frames,
 * new ones are copied) and one buffer of the server, which grows its
 * buffers (up to 8) rather than drop frames. The array is the stream's
 * read-only memory: filters read it; writing into it (a numpy view through
 * vtk_to_numpy, say) ends the process with SIGSEGV. Copy an array you want to
 * write. A stream file shrunk under a lent frame makes reading it fault
 * (SIGBUS), as any in-place read does (README, "A file shrunk").
 *
 * It is a live source: GetNeedsUpdate() tells, cheaply and without blocking,
 * whether a newer frame has been published. ParaView's GUI polls it (the
 * `LiveSource` hint). A program calls GetNeedsUpdate() (or Modified()) and
 * then Update(); a pvpython script calls
 * `source.SMProxy.InvokeCommand("Refresh")` and then `UpdatePipeline()`
 * (the proxy's function is `SharedMemoryImageStream`, after its label).
 *
 * Nothing blocks. When the file does not exist yet, is being set up, or its
 * server is gone, GetStatus() says so (no warning: these are the states of a
 * live stream); a file that stays foreign or corrupt, or cannot be opened, is
 * reported once as an error. The source keeps producing the last frame it
 * got, and tries to attach again on the next GetNeedsUpdate() or update, so
 * that a server that starts (or restarts) later is picked up. A stream file removed or replaced
 * is noticed at the first poll that finds no newer frame, a truncated one at
 * the next poll (an error, never a crash).
 *
 * Memory of copied frames: the frame's array is reused in place while
 * nothing downstream holds it; when something does (ParaView keeps the
 * previous frame until its own filters update), a second array takes turns
 * with it: the source holds at most two frame-sized arrays and allocates
 * none per frame. Frames kept by a consumer are never written to.
 *
 * @sa vtkSharedMemoryImageWriter
 */

#ifndef vtkSharedMemoryImageSource_h
#define vtkSharedMemoryImageSource_h

#include "vtkImageAlgorithm.h"
#include "vtkSharedMemoryImageModule.h" // For export macro

#include <memory> // For std::unique_ptr

class VTKSHAREDMEMORYIMAGE_EXPORT vtkSharedMemoryImageSource : public vtkImageAlgorithm
{
public:
  static vtkSharedMemoryImageSource* New();
  vtkTypeMacro(vtkSharedMemoryImageSource, vtkImageAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  ///@{
  /**
   * Stream file to attach to (for example /dev/shm/view.smi). Changing it
   * detaches from the previous stream and forgets its last frame.
   * Default: nullptr (no stream: an empty output).
   */
  vtkSetFilePathMacro(FileName);
  vtkGetFilePathMacro(FileName);
  ///@}

  /**
   * True when a frame newer than the one last produced is waiting (or when the
   * stream could be attached again after it was missing): then Modified() has
   * been called and the next Update() produces it; also true once when the
   * server comes or goes, or the file is removed (the ServerAlive field
   * changes). Never blocks, copies nothing (a few microseconds); called by
   * ParaView's live-source polling every 10 ms.
   */
  bool GetNeedsUpdate();

  /**
   * True while attached to a stream whose file is a valid stream. A stream
   * with no live server still counts as attached (frames may come later).
   */
  bool IsAttached();

  /**
   * Number of the frame in the current output, or 0 before the first frame.
   */
  vtkTypeUInt32 GetFrameNumber();

  ///@{
  /**
   * Compute the value ranges of each new frame (one vectorized pass over
   * the frame, at the speed of a memcpy of it; see bench_plugin.py) and cache
   * them in the Pixels array, so that ParaView's data information (gathered
   * by the GUI after every update, for the Information panel and color maps)
   * does not scan the frame again with VTK's slower generic passes (about 70
   * ms per 960x540 frame measured in the GUI). Turn it off in programs that
   * never ask for ranges. Default: on.
   */
  vtkSetMacro(ComputeValueRanges, bool);
  vtkGetMacro(ComputeValueRanges, bool);
  vtkBooleanMacro(ComputeValueRanges, bool);
  ///@}

  ///@{
  /**
   * Hand out frames stored bottom row first without copying them: the
   * output's array points into the locked frame, which stays locked while
   * VTK holds the array (see the class description). Off: every frame is
   * copied. Default: on.
   */
  vtkSetMacro(ZeroCopy, bool);
  vtkGetMacro(ZeroCopy, bool);
  vtkBooleanMacro(ZeroCopy, bool);
  ///@}

  /**
   * Where the source stands, in words: attached to which stream (layout,
   * server alive), or why not (no file yet, a header being set up, the
   * server gone, the file removed, an error). Empty before the first update.
   */
  const char* GetStatus();

protected:
  vtkSharedMemoryImageSource();
  ~vtkSharedMemoryImageSource() override;

  int RequestInformation(vtkInformation* request, vtkInformationVector** inputVector,
    vtkInformationVector* outputVector) override;
  int RequestData(vtkInformation* request, vtkInformationVector** inputVector,
    vtkInformationVector* outputVector) override;

  char* FileName = nullptr;
  bool ComputeValueRanges = true;
  bool ZeroCopy = true;

private:
  vtkSharedMemoryImageSource(const vtkSharedMemoryImageSource&) = delete;
  void operator=(const vtkSharedMemoryImageSource&) = delete;

  struct vtkInternals;
  std::unique_ptr<vtkInternals> Internals;
};

#endif
