// SPDX-License-Identifier: BSD-3-Clause
#include "vtkSharedMemoryStreamServer.h"

//------------------------------------------------------------------------------
SharedMemoryImageError vtkSharedMemoryStreamServer::Serve(
  const char* fileName, bool enSight, const SharedMemoryImageDesc& frame, uint32_t extraOptions)
{
  this->Close();
  SharedMemoryImageError err = SharedMemoryImageStream_createfilelayout(
    fileName, enSight ? IMAGESTREAM_LAYOUT_ENSIGHT : IMAGESTREAM_LAYOUT_EXTENDED, &frame);
  if (err < IMAGESTREAM_NOERROR)
  {
    return err;
  }
  const uint32_t options = IMAGESTREAM_OPTIONS_SERVER | extraOptions |
    (enSight ? 0u : static_cast<uint32_t>(IMAGESTREAM_OPTIONS_EXTENDED));
  err = SharedMemoryImageStream_create(fileName, options, &this->Stream_);
  if (err < IMAGESTREAM_NOERROR)
  {
    this->Stream_ = nullptr;
    return err;
  }
  SharedMemoryStreamInfo info;
  if (SharedMemoryImageStream_info(this->Stream_, &info) == IMAGESTREAM_NOERROR)
  {
    this->Bytes = info.buffer_size;
  }
  this->File = fileName;
  this->EnSight = enSight;
  return IMAGESTREAM_NOERROR;
}

//------------------------------------------------------------------------------
std::string vtkSharedMemoryStreamServer::ErrorText(
  const char* fileName, SharedMemoryImageError err)
{
  std::string text = SharedMemoryImageStream_errorstring(err);
  char why[1024] = "";
  if (fileName &&
    (err == IMAGESTREAM_UNABLE_TO_OPEN_FILE || err == IMAGESTREAM_BAD_FILE_SIZE ||
      err == IMAGESTREAM_UNSAFE_FILE) &&
    SharedMemoryImageStream_checkfile(fileName, IMAGESTREAM_OPTIONS_NONE, why, sizeof(why)) < 0 &&
    why[0])
  {
    text += std::string(" (") + why + ")";
  }
  return text;
}

//------------------------------------------------------------------------------
void vtkSharedMemoryStreamServer::Close()
{
  if (this->Stream_)
  {
    SharedMemoryImageStream_destroy(this->Stream_);
    this->Stream_ = nullptr;
  }
  this->File.clear();
  this->Bytes = 0;
}

//------------------------------------------------------------------------------
uint32_t vtkSharedMemoryStreamServer::LastFrame() const
{
  SharedMemoryStreamInfo info;
  if (this->Stream_ && SharedMemoryImageStream_info(this->Stream_, &info) == IMAGESTREAM_NOERROR)
  {
    return info.last_frame;
  }
  return 0;
}
