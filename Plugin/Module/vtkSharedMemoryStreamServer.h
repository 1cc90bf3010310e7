// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   vtkSharedMemoryStreamServer
 * @brief   Serves one stream file: what the writer and the render-window
 *          publisher share. Private to the module (not a vtkObject).
 *
 * Serve() creates the file, or grows it to hold a frame, in the EnSight or
 * the extended layout, and opens the server end; Close() ends it (the file
 * stays). A file only grows while no client maps it: the library refuses to
 * grow a file under its clients, so a caller whose frames outgrow the
 * buffers decides what to do (the writer replaces the file, the publisher
 * drops frames until the clients leave). A truncated file (BAD_FILE_SIZE
 * from a publishing call) is served again with Serve().
 */
#ifndef vtkSharedMemoryStreamServer_h
#define vtkSharedMemoryStreamServer_h

#include "shared_memory_image.h"

#include <cstdint>
#include <string>

class vtkSharedMemoryStreamServer
{
public:
  vtkSharedMemoryStreamServer() = default;
  ~vtkSharedMemoryStreamServer() { this->Close(); }
  vtkSharedMemoryStreamServer(const vtkSharedMemoryStreamServer&) = delete;
  vtkSharedMemoryStreamServer& operator=(const vtkSharedMemoryStreamServer&) = delete;

  /// Close what is served, then serve `fileName` (created, or grown to hold
  /// two `frame`s) in EnSight's layout or the extended one, with the server
  /// options `extraOptions` (FLIPVERTICAL, say). NOERROR or the failing code.
  SharedMemoryImageError Serve(const char* fileName, bool enSight, const SharedMemoryImageDesc& frame,
    uint32_t extraOptions = 0);

  /// End the server end; the file stays.
  void Close();

  /// The message for `err` from opening `fileName` (as a server or a client),
  /// as every face shows it (SharedMemoryImageStream_openerrorstring()).
  static std::string ErrorText(const char* fileName, SharedMemoryImageError err);

  /// The open stream, or nullptr.
  SharedMemoryImageStream Stream() const { return this->Stream_; }

  /// Whether `fileName` is served, in that layout.
  bool Serves(const char* fileName, bool enSight) const
  {
    return this->Stream_ && fileName && this->File == fileName && this->EnSight == enSight;
  }

  /// The file served ("" when none).
  const std::string& FileName() const { return this->File; }

  /// Bytes of the largest frame the served file's buffers hold (0: none).
  uint64_t BufferBytes() const { return this->Bytes; }

  /// The number of the newest frame published, as the file says (0 when
  /// nothing is served).
  uint32_t LastFrame() const;

private:
  SharedMemoryImageStream Stream_ = nullptr;
  std::string File;
  bool EnSight = false;
  uint64_t Bytes = 0;
};

#endif
