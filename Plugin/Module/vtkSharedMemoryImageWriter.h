// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   vtkSharedMemoryImageWriter
 * @brief   Serves vtkImageData as a shared-memory image stream.
 *
 * vtkSharedMemoryImageWriter is the server end of a stream: each Write()
 * (vtkWriter's: 1 on success, also when no client listens or every buffer is
 * held and the frame is dropped, as is normal for a live stream; 0 on error,
 * with GetErrorCode() set) publishes its input as the stream's newest frame, for any number of clients
 * (vtkSharedMemoryImageSource, the C API, the Python module, `smi-read`).
 * The stream stays open between writes, so calling Write() once per time step
 * (or per render) publishes a live stream; ReleaseStream() (or deleting the
 * writer, or changing FileName) ends it.
 *
 * Accepted input scalars (point data):
 *
 * | scalars                          | stream format |
 * |----------------------------------|---------------|
 * | unsigned char, 3 components      | rgb8          |
 * | unsigned char, 4 components      | rgba8         |
 * | unsigned char, 1 component       | gray8         |
 * | unsigned short, 1 component      | gray16        |
 * | float, 1 component               | float32       |
 * | short, 1 component               | int16         |
 * | int, 1 component                 | int32         |
 * | unsigned int, 1 component        | uint32        |
 * | double, 1 component              | float64       |
 *
 * 3-D images (more than one slice) are published as one frame of that depth.
 * Spacing and origin go with each frame. Anything else (other scalar types,
 * other component counts, no scalars) is refused with an error that says why.
 *
 * By default the stream uses the extended layout (many clients, every format
 * above). With EnSightLayout on, it uses EnSight's layout instead, which
 * EnSight's own client reads: rgb8 images of one slice only, one client.
 *
 * The file is created, or grown, to fit the frame when it is too small, as
 * long as this writer does not already serve it. Rows are stored bottom
 * row first (VTK's order, copied as they are) and the frame says so
 * (IMAGESTREAM_FRAME_BOTTOMUP): vtkSharedMemoryImageSource uses it without a
 * copy, other clients turn it upright (copyframe does). The EnSight layout,
 * always top row first, gets the rows reversed while they are copied.
 *
 * @sa vtkSharedMemoryImageSource
 */

#ifndef vtkSharedMemoryImageWriter_h
#define vtkSharedMemoryImageWriter_h

#include "vtkWriter.h"
#include "vtkSharedMemoryImageModule.h" // For export macro

#include <memory> // For std::unique_ptr

class vtkImageData;

class VTKSHAREDMEMORYIMAGE_EXPORT vtkSharedMemoryImageWriter : public vtkWriter
{
public:
  static vtkSharedMemoryImageWriter* New();
  vtkTypeMacro(vtkSharedMemoryImageWriter, vtkWriter);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  ///@{
  /**
   * Stream file to serve (for example /dev/shm/view.smi). Changing it closes
   * the stream served so far. Default: nullptr (Write() fails).
   */
  vtkSetFilePathMacro(FileName);
  vtkGetFilePathMacro(FileName);
  ///@}

  ///@{
  /**
   * Write EnSight's file layout instead of the extended one, so that EnSight's
   * own client can read the stream (rgb8, one slice, one client). Takes effect
   * when the stream is next opened. Default: false.
   */
  vtkSetMacro(EnSightLayout, bool);
  vtkGetMacro(EnSightLayout, bool);
  vtkBooleanMacro(EnSightLayout, bool);
  ///@}

  /**
   * Stop serving: close the stream (the file stays). The next Write() serves
   * it again.
   */
  void ReleaseStream();

  /**
   * Number of the last frame published, or 0 before the first one.
   */
  vtkTypeUInt32 GetLastFrameNumber();

protected:
  vtkSharedMemoryImageWriter();
  ~vtkSharedMemoryImageWriter() override;

  int FillInputPortInformation(int port, vtkInformation* info) override;
  /// vtkWriter: publish the input (Write() calls it, also for an unchanged input).
  void WriteData() override;

  char* FileName = nullptr;
  bool EnSightLayout = false;

private:
  // Publish `input`; 1, or 0 with the error code set and reported.
  int Publish(vtkImageData* input);

  vtkSharedMemoryImageWriter(const vtkSharedMemoryImageWriter&) = delete;
  void operator=(const vtkSharedMemoryImageWriter&) = delete;

  struct vtkInternals;
  std::unique_ptr<vtkInternals> Internals;
};

#endif
